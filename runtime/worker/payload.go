package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// Request is one invocation: which chunk of which job to run.
type Request struct {
	JobPath    string `json:"jobPath"`
	ChunkIndex int64  `json:"chunkIndex"`
}

// Errors returned by [DecodeRequest]; the platform packages map each to its
// wire message.
var (
	// ErrPayloadSyntax: the payload is empty or not JSON.
	ErrPayloadSyntax = errors.New("payload is not valid JSON")
	// ErrPayloadNotObject: the payload is JSON but not an object.
	ErrPayloadNotObject = errors.New("payload is not a JSON object")
	// ErrPayloadFields: jobPath or chunkIndex is missing or of the wrong type.
	ErrPayloadFields = errors.New("missing jobPath or chunkIndex")
)

// DecodeRequest decodes an invocation payload. jobPath must be a non-empty
// string and chunkIndex a JSON number holding a non-negative integer
// (1, 1.0 and 1e0 are the same chunk; "1", 1.5, -1, null and 1e400 are
// refused). Other fields are ignored.
func DecodeRequest(data []byte) (Request, error) {
	data = bytes.Trim(data, " \t\r\n") // JSON's whitespace, and no other
	if len(data) == 0 || !json.Valid(data) {
		return Request{}, ErrPayloadSyntax
	}
	if data[0] != '{' {
		return Request{}, ErrPayloadNotObject
	}
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case, and the contract's keys are exact.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Request{}, ErrPayloadSyntax
	}
	var req Request
	if jp := raw["jobPath"]; len(jp) == 0 || jp[0] != '"' ||
		json.Unmarshal(jp, &req.JobPath) != nil || req.JobPath == "" {
		return Request{}, ErrPayloadFields
	}
	n, ok := chunkIndex(raw["chunkIndex"])
	if !ok {
		return Request{}, ErrPayloadFields
	}
	req.ChunkIndex = n
	return req, nil
}

// chunkIndex reads a JSON number that holds a non-negative integer.
func chunkIndex(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false // absent, string, null, bool, object or array
	}
	s := string(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n >= 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f >= 1<<53 {
		return 0, false
	}
	return int64(f), true
}
