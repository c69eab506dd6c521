package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"path"
	"strconv"
	"strings"
)

// Request is one invocation: which chunk of which job to run.
type Request struct {
	JobPath    string `json:"jobPath"`
	ChunkIndex int64  `json:"chunkIndex"`
	// Attempt, when above 1, is which try of the chunk this is: its
	// output goes to its own name ([AttemptName]), so that two attempts
	// running at once (a straggler and its backup) never write one object.
	// 0 (absent) and 1 are the first try. Old workers ignore it.
	Attempt int `json:"attempt,omitempty"`
	// FailAsError asks a Lambda worker to raise a failed chunk as a
	// function error (type Helios.ChunkFailed, the answer as its
	// message) instead of answering it: what a Step Functions task needs
	// for a failed chunk to be its own failed step, which Retry and
	// Redrive run again. Other invokers leave it out.
	FailAsError bool `json:"failAsError,omitempty"`
}

// MaxAttempt is the highest Attempt a payload may carry.
const MaxAttempt = 1000

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
	// ErrAttempt: attempt is present but not an integer from 1 to
	// MaxAttempt.
	ErrAttempt = errors.New("attempt must be an integer from 1 to 1000")
	// ErrFailAsError: failAsError is present but not true or false.
	ErrFailAsError = errors.New("failAsError must be true or false")
)

// DecodeRequest decodes an invocation payload. jobPath must be a non-empty
// string and chunkIndex a JSON number holding a non-negative integer
// (1, 1.0 and 1e0 are the same chunk; "1", 1.5, -1 and null are
// [ErrPayloadFields]; 2^63 and 1e400 are [ErrChunkIndexRange]). A key
// twice, or a key that differs from jobPath or chunkIndex only in case,
// is [ErrAmbiguousJSON]. An attempt, when present, must be an integer
// from 1 to [MaxAttempt] ([ErrAttempt]). Other fields are ignored.
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
	if req.FailAsError, err = failAsError(raw); err != nil {
		return Request{}, err
	}
	if a, ok := raw["attempt"]; ok {
		if req.Attempt, err = attempt(a); err != nil {
			return Request{}, err
		}
	}
	return req, nil
}

// failAsError reads failAsError: absent is false.
func failAsError(raw map[string]json.RawMessage) (bool, error) {
	switch v, ok := raw["failAsError"]; {
	case !ok || string(v) == "false":
		return false, nil
	case string(v) == "true":
		return true, nil
	}
	return false, ErrFailAsError
}

// attempt reads an attempt number: a JSON integer from 1 to MaxAttempt.
func attempt(raw json.RawMessage) (int, error) {
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 1 || n > MaxAttempt {
		return 0, ErrAttempt
	}
	return n, nil
}

// AttemptName is where attempt (see [Request.Attempt]) of a chunk puts
// its outputFile: the name itself for the first try, else the name with
// ".attempt-N" before its extension ("out_part_3.mp4" becomes
// "out_part_3.attempt-2.mp4").
func AttemptName(outputFile string, attempt int) string {
	if attempt <= 1 {
		return outputFile
	}
	dir, base := path.Split(outputFile)
	ext := path.Ext(base)
	if ext == base {
		ext = "" // ".hidden" has no extension
	}
	return dir + strings.TrimSuffix(base, ext) + ".attempt-" + strconv.Itoa(attempt) + ext
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
