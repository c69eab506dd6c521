package jobspec

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
	// ErrChunkIndexRange: chunkIndex is an integer too large to be a chunk's id.
	ErrChunkIndexRange = errors.New("chunkIndex is out of range")
)

// DecodeRequest decodes an invocation payload. jobPath must be a non-empty
// string and chunkIndex a JSON number holding a non-negative integer
// (1, 1.0 and 1e0 are the same chunk; "1", 1.5, -1 and null are
// [ErrPayloadFields]; 2^63 and 1e400 are [ErrChunkIndexRange]). A key
// twice, or a key that differs from jobPath or chunkIndex only in case,
// is [ErrAmbiguousJSON]. Other fields are ignored.
func DecodeRequest(data []byte) (Request, error) {
	data = bytes.Trim(data, " \t\r\n") // JSON's whitespace, and no other
	if len(data) == 0 || !json.Valid(data) {
		return Request{}, ErrPayloadSyntax
	}
	if data[0] != '{' {
		return Request{}, ErrPayloadNotObject
	}
	if err := checkKeys(data, payloadShape); err != nil {
		return Request{}, err
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
	n, err := chunkIndex(raw["chunkIndex"])
	if err != nil {
		return Request{}, err
	}
	req.ChunkIndex = n
	return req, nil
}

// chunkIndex reads a JSON number that holds a non-negative integer.
func chunkIndex(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, ErrPayloadFields // absent, string, null, bool, object or array
	}
	s := string(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err == nil && n >= 0:
		return n, nil
	case err == nil, s[0] == '-':
		return 0, ErrPayloadFields
	case errors.Is(err, strconv.ErrRange):
		return 0, ErrChunkIndexRange
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && f >= 1<<53 && f == math.Trunc(f):
		return 0, ErrChunkIndexRange
	case err != nil, f != math.Trunc(f):
		return 0, ErrPayloadFields
	}
	return int64(f), nil
}
