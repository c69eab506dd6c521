package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MergeRequest is the invocation that merges a job's rendered chunks
// into its video: the payload {"jobPath": ..., "action": "merge",
// "outputs": [...]} or, instead of outputs, "resultsUrl". A Step
// Functions state machine sends it to the same function that rendered
// the chunks, once they are all done. Exactly one of Outputs and
// ResultsURL is set.
//
// It never carries a chunkIndex: a worker that predates the merge reads
// a merge payload as a chunk's without one and answers 400 "missing
// jobPath or chunkIndex", never running a chunk.
type MergeRequest struct {
	JobPath string
	// Outputs are the chunks' outputs, as their workers answered.
	Outputs []ChunkOutput
	// ResultsURL is where a Distributed Map's ResultWriter put its
	// manifest.json (s3://bucket/prefix/RUN/manifest.json), whose results
	// files hold what each chunk's worker answered.
	ResultsURL string
	// FailAsError asks a Lambda worker to raise a failed merge as a
	// function error (type Helios.MergeFailed), as [Request.FailAsError].
	FailAsError bool
}

// ChunkOutput is one chunk's output as its worker answered it: where it
// put it, its size and the SHA-256 of its bytes (lowercase hex).
type ChunkOutput struct {
	Chunk        int64  `json:"chunk"`
	OutputURL    string `json:"outputUrl"`
	OutputBytes  int64  `json:"outputBytes"`
	OutputSHA256 string `json:"outputSha256"`
}

// ActionMerge is the only action a payload may name.
const ActionMerge = "merge"

// Errors of [DecodeMergeRequest].
var (
	// ErrNotMerge: the payload names no action; it is a chunk's
	// invocation, for [DecodeRequest], or not an object at all.
	ErrNotMerge = errors.New("not a merge request")
	// ErrMergeRequest is wrapped by every refusal of a payload that names
	// an action, with the reason; it also wraps [ErrPayloadFields], so
	// that the platforms answer it with 400 and the kind "payload".
	ErrMergeRequest = errors.New("invalid merge request")
)

// mergeError is a refusal of a merge payload: its text is the reason.
type mergeError struct{ reason string }

func (e *mergeError) Error() string   { return e.reason }
func (e *mergeError) Unwrap() []error { return []error{ErrMergeRequest, ErrPayloadFields} }

func refuse(format string, a ...any) error { return &mergeError{fmt.Sprintf(format, a...)} }

var mergeShape = shape{
	"":          {"jobPath", "action", "outputs", "resultsUrl", "chunkIndex", "failAsError"},
	"outputs[]": {"chunk", "outputUrl", "outputBytes", "outputSha256"},
}

// DecodeMergeRequest decodes a payload that names an action. It returns
// [ErrNotMerge] for a payload that is not a JSON object, or whose top
// object has no key "action" (in any case): that one is a chunk's, for
// [DecodeRequest]. Otherwise the payload is a merge's, read as strictly
// as a chunk's ([ErrAmbiguousJSON] for a key twice or one that differs
// from a field only in case) and refused, wrapping [ErrMergeRequest],
// unless:
//
//   - action is the string "merge";
//   - jobPath is a non-empty string;
//   - there is no chunkIndex;
//   - exactly one of outputs and resultsUrl is there: outputs a non-empty
//     array of objects, each with chunk (a non-negative integer, as a
//     chunkIndex is read), outputUrl (a non-empty string), outputBytes (a
//     non-negative integer) and outputSha256 (64 hexadecimal digits,
//     returned in lowercase), no chunk twice; resultsUrl a non-empty
//     string.
//
// Other fields are ignored.
func DecodeMergeRequest(data []byte) (MergeRequest, error) {
	data = bytes.Trim(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
		return MergeRequest{}, ErrNotMerge
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return MergeRequest{}, ErrNotMerge
	}
	named := false
	for k := range raw {
		named = named || strings.EqualFold(k, "action")
	}
	if !named {
		return MergeRequest{}, ErrNotMerge
	}
	if err := checkKeys(data, mergeShape); err != nil {
		return MergeRequest{}, err
	}
	var action string
	if json.Unmarshal(raw["action"], &action) != nil || action != ActionMerge {
		return MergeRequest{}, refuse("action must be %q", ActionMerge)
	}
	var req MergeRequest
	var err error
	if req.FailAsError, err = failAsError(raw); err != nil {
		return MergeRequest{}, refuse("%v", err)
	}
	if jp := raw["jobPath"]; len(jp) == 0 || jp[0] != '"' || json.Unmarshal(jp, &req.JobPath) != nil || req.JobPath == "" {
		return MergeRequest{}, refuse("a merge needs jobPath, a non-empty string")
	}
	if _, ok := raw["chunkIndex"]; ok {
		return MergeRequest{}, refuse("a merge takes no chunkIndex (a worker without merges would run that chunk)")
	}
	outs, hasOuts := raw["outputs"]
	results, hasResults := raw["resultsUrl"]
	switch {
	case hasOuts == hasResults:
		return MergeRequest{}, refuse("a merge needs either outputs or resultsUrl, and not both")
	case hasResults:
		if len(results) == 0 || results[0] != '"' || json.Unmarshal(results, &req.ResultsURL) != nil || req.ResultsURL == "" {
			return MergeRequest{}, refuse("resultsUrl must be a non-empty string")
		}
		return req, nil
	}
	req.Outputs, err = decodeOutputs(outs)
	return req, err
}

// decodeOutputs reads the outputs array of a merge payload.
func decodeOutputs(data json.RawMessage) ([]ChunkOutput, error) {
	var items []map[string]json.RawMessage
	if len(data) == 0 || data[0] != '[' || json.Unmarshal(data, &items) != nil || len(items) == 0 {
		return nil, refuse("outputs must be a non-empty array of objects")
	}
	outs := make([]ChunkOutput, len(items))
	seen := make(map[int64]int, len(items))
	for i, it := range items {
		if it == nil { // null
			return nil, refuse("outputs[%d] must be an object", i)
		}
		o := &outs[i]
		var err error
		if o.Chunk, err = chunkIndex(it["chunk"]); err != nil {
			return nil, refuse("outputs[%d].chunk must be a non-negative integer", i)
		}
		if j, ok := seen[o.Chunk]; ok {
			return nil, refuse("outputs[%d] and outputs[%d] are both chunk %d", j, i, o.Chunk)
		}
		seen[o.Chunk] = i
		if u := it["outputUrl"]; len(u) == 0 || u[0] != '"' || json.Unmarshal(u, &o.OutputURL) != nil || o.OutputURL == "" {
			return nil, refuse("outputs[%d].outputUrl must be a non-empty string", i)
		}
		if o.OutputBytes, err = chunkIndex(it["outputBytes"]); err != nil {
			return nil, refuse("outputs[%d].outputBytes must be a non-negative integer", i)
		}
		var sum string
		if s := it["outputSha256"]; len(s) == 0 || s[0] != '"' || json.Unmarshal(s, &sum) != nil || !isSHA256(sum) {
			return nil, refuse("outputs[%d].outputSha256 must be a SHA-256 in 64 hexadecimal digits", i)
		}
		o.OutputSHA256 = strings.ToLower(sum)
	}
	return outs, nil
}

// isSHA256 reports whether s is 64 hexadecimal digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// MarshalJSON encodes the request as its payload, "action": "merge"
// included.
func (r MergeRequest) MarshalJSON() ([]byte, error) {
	type payload struct {
		JobPath    string        `json:"jobPath"`
		Action     string        `json:"action"`
		Outputs    []ChunkOutput `json:"outputs,omitempty"`
		ResultsURL string        `json:"resultsUrl,omitempty"`
	}
	return json.Marshal(payload{r.JobPath, ActionMerge, r.Outputs, r.ResultsURL})
}
