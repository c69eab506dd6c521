package jobspec_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

const (
	sumA = "a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9"
	sumB = "0000000000000000000000000000000000000000000000000000000000000001"
)

type mergeCase struct {
	name string
	in   string
	want jobspec.MergeRequest
	err  error  // nil: accepted
	msg  string // the refusal's text, when set
}

var mergeCases = []mergeCase{
	// Accepted.
	{name: "outputs", in: `{"jobPath":"s3://b/jobs/x.json","action":"merge","outputs":[` +
		`{"chunk":0,"outputUrl":"s3://b/out/out_part_0.mp4","outputBytes":123,"outputSha256":"` + sumA + `"},` +
		`{"chunk":1,"outputUrl":"s3://b/out/out_part_1.mp4","outputBytes":0,"outputSha256":"` + strings.ToUpper(sumB) + `"}]}`,
		want: jobspec.MergeRequest{JobPath: "s3://b/jobs/x.json", Outputs: []jobspec.ChunkOutput{
			{Chunk: 0, OutputURL: "s3://b/out/out_part_0.mp4", OutputBytes: 123, OutputSHA256: sumA},
			{Chunk: 1, OutputURL: "s3://b/out/out_part_1.mp4", OutputBytes: 0, OutputSHA256: sumB}}}},
	{name: "resultsUrl", in: `{"jobPath":"j","action":"merge","resultsUrl":"s3://b/results/r/manifest.json","x":[1]}`,
		want: jobspec.MergeRequest{JobPath: "j", ResultsURL: "s3://b/results/r/manifest.json"}},
	{name: "chunk 1.0 and 1e2 bytes", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":1.0,"outputUrl":"u","outputBytes":1e2,"outputSha256":"` + sumA + `","extra":{}}]}`,
		want: jobspec.MergeRequest{JobPath: "j", Outputs: []jobspec.ChunkOutput{{Chunk: 1, OutputURL: "u", OutputBytes: 100, OutputSHA256: sumA}}}},

	// Not a merge: a chunk's payload, or not an object.
	{name: "a chunk's payload", in: `{"jobPath":"j","chunkIndex":0}`, err: jobspec.ErrNotMerge},
	{name: "action in a nested object", in: `{"jobPath":"j","chunkIndex":0,"x":{"action":"merge"}}`, err: jobspec.ErrNotMerge},
	{name: "not JSON", in: `{"action":"merge"`, err: jobspec.ErrNotMerge},
	{name: "array", in: `[{"action":"merge"}]`, err: jobspec.ErrNotMerge},
	{name: "empty", in: ``, err: jobspec.ErrNotMerge},

	// A merge, refused.
	{name: "another action", in: `{"jobPath":"j","action":"render","resultsUrl":"r"}`, err: jobspec.ErrMergeRequest, msg: `action must be "merge"`},
	{name: "action not a string", in: `{"jobPath":"j","action":1,"resultsUrl":"r"}`, err: jobspec.ErrMergeRequest, msg: `action must be "merge"`},
	{name: "action null", in: `{"jobPath":"j","action":null,"resultsUrl":"r"}`, err: jobspec.ErrMergeRequest},
	{name: "Merge", in: `{"jobPath":"j","action":"Merge","resultsUrl":"r"}`, err: jobspec.ErrMergeRequest},
	{name: "Action", in: `{"jobPath":"j","Action":"merge","resultsUrl":"r"}`, err: jobspec.ErrAmbiguousJSON,
		msg: `ambiguous JSON: key "Action" is not "action" (keys are case-sensitive)`},
	{name: "action twice", in: `{"jobPath":"j","action":"merge","action":"merge","resultsUrl":"r"}`, err: jobspec.ErrAmbiguousJSON},
	{name: "outputUrl twice", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputUrl":"v","outputBytes":1,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrAmbiguousJSON, msg: `ambiguous JSON: key "outputUrl" appears twice in outputs[0]`},
	{name: "OutputSha256", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputBytes":1,"OutputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrAmbiguousJSON},
	{name: "no jobPath", in: `{"action":"merge","resultsUrl":"r"}`, err: jobspec.ErrMergeRequest, msg: "a merge needs jobPath, a non-empty string"},
	{name: "jobPath empty", in: `{"jobPath":"","action":"merge","resultsUrl":"r"}`, err: jobspec.ErrMergeRequest},
	{name: "jobPath a number", in: `{"jobPath":3,"action":"merge","resultsUrl":"r"}`, err: jobspec.ErrMergeRequest},
	{name: "chunkIndex", in: `{"jobPath":"j","action":"merge","chunkIndex":0,"resultsUrl":"r"}`, err: jobspec.ErrMergeRequest,
		msg: "a merge takes no chunkIndex (a worker without merges would run that chunk)"},
	{name: "neither", in: `{"jobPath":"j","action":"merge"}`, err: jobspec.ErrMergeRequest, msg: "a merge needs either outputs or resultsUrl, and not both"},
	{name: "both", in: `{"jobPath":"j","action":"merge","resultsUrl":"r","outputs":[]}`, err: jobspec.ErrMergeRequest},
	{name: "resultsUrl empty", in: `{"jobPath":"j","action":"merge","resultsUrl":""}`, err: jobspec.ErrMergeRequest, msg: "resultsUrl must be a non-empty string"},
	{name: "resultsUrl null", in: `{"jobPath":"j","action":"merge","resultsUrl":null}`, err: jobspec.ErrMergeRequest},
	{name: "outputs empty", in: `{"jobPath":"j","action":"merge","outputs":[]}`, err: jobspec.ErrMergeRequest, msg: "outputs must be a non-empty array of objects"},
	{name: "outputs an object", in: `{"jobPath":"j","action":"merge","outputs":{}}`, err: jobspec.ErrMergeRequest},
	{name: "outputs of numbers", in: `{"jobPath":"j","action":"merge","outputs":[1]}`, err: jobspec.ErrMergeRequest},
	{name: "output null", in: `{"jobPath":"j","action":"merge","outputs":[null]}`, err: jobspec.ErrMergeRequest, msg: "outputs[0] must be an object"},
	{name: "chunk -1", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":-1,"outputUrl":"u","outputBytes":1,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest, msg: "outputs[0].chunk must be a non-negative integer"},
	{name: "chunk a string", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":"0","outputUrl":"u","outputBytes":1,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest},
	{name: "chunk twice", in: `{"jobPath":"j","action":"merge","outputs":[` +
		`{"chunk":2,"outputUrl":"u","outputBytes":1,"outputSha256":"` + sumA + `"},{"chunk":2,"outputUrl":"v","outputBytes":1,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest, msg: "outputs[0] and outputs[1] are both chunk 2"},
	{name: "no outputUrl", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputBytes":1,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest, msg: "outputs[0].outputUrl must be a non-empty string"},
	{name: "outputBytes 1.5", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputBytes":1.5,"outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest, msg: "outputs[0].outputBytes must be a non-negative integer"},
	{name: "no outputBytes", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputSha256":"` + sumA + `"}]}`,
		err: jobspec.ErrMergeRequest},
	{name: "short outputSha256", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputBytes":1,"outputSha256":"abc"}]}`,
		err: jobspec.ErrMergeRequest, msg: "outputs[0].outputSha256 must be a SHA-256 in 64 hexadecimal digits"},
	{name: "outputSha256 not hex", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputBytes":1,"outputSha256":"` + strings.Repeat("g", 64) + `"}]}`,
		err: jobspec.ErrMergeRequest},
	{name: "no outputSha256", in: `{"jobPath":"j","action":"merge","outputs":[{"chunk":0,"outputUrl":"u","outputBytes":1}]}`,
		err: jobspec.ErrMergeRequest},
}

func TestDecodeMergeRequest(t *testing.T) {
	for _, tc := range mergeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jobspec.DecodeMergeRequest([]byte(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("DecodeMergeRequest(%q) = %+v, %v; want error %v", tc.in, got, err, tc.err)
				}
				if tc.msg != "" && err.Error() != tc.msg {
					t.Errorf("error %q, want %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeMergeRequest(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecodeMergeRequest(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// A refused merge is a 400 of kind payload on the platforms: its error
// wraps ErrPayloadFields, which worker.StatusOf and KindOf go by.
func TestMergeRequestErrorIsPayloadFields(t *testing.T) {
	_, err := jobspec.DecodeMergeRequest([]byte(`{"jobPath":"j","action":"merge"}`))
	if !errors.Is(err, jobspec.ErrMergeRequest) || !errors.Is(err, jobspec.ErrPayloadFields) {
		t.Fatalf("%v: want ErrMergeRequest and ErrPayloadFields", err)
	}
	if errors.Is(jobspec.ErrNotMerge, jobspec.ErrPayloadFields) {
		t.Error("ErrNotMerge is no refusal")
	}
}

func TestMergeRequestMarshalJSON(t *testing.T) {
	req := jobspec.MergeRequest{JobPath: "s3://b/j.json", Outputs: []jobspec.ChunkOutput{{Chunk: 4, OutputURL: "s3://b/o/p.mp4", OutputBytes: 9, OutputSHA256: sumA}}}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jobPath":"s3://b/j.json","action":"merge","outputs":[{"chunk":4,"outputUrl":"s3://b/o/p.mp4","outputBytes":9,"outputSha256":"` + sumA + `"}]}`
	if string(data) != want {
		t.Errorf("json.Marshal = %s, want %s", data, want)
	}
	data, _ = json.Marshal(jobspec.MergeRequest{JobPath: "j", ResultsURL: "s3://b/r/manifest.json"})
	if want := `{"jobPath":"j","action":"merge","resultsUrl":"s3://b/r/manifest.json"}`; string(data) != want {
		t.Errorf("json.Marshal = %s, want %s", data, want)
	}
}

// FuzzDecodeMergeRequest: every payload is a chunk's or a merge's, never
// both: a payload that decodes as a merge is refused as a chunk (an old
// worker, which knows no action, answers it 400 and runs nothing); one
// that is not a merge is exactly what DecodeRequest reads. An accepted
// merge is whole and survives a round trip.
func FuzzDecodeMergeRequest(f *testing.F) {
	for _, tc := range mergeCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := jobspec.DecodeMergeRequest(in)
		switch {
		case errors.Is(err, jobspec.ErrNotMerge):
			return
		case err != nil:
			if !errors.Is(err, jobspec.ErrMergeRequest) && !errors.Is(err, jobspec.ErrAmbiguousJSON) {
				t.Fatalf("DecodeMergeRequest(%q): undocumented error %v", in, err)
			}
			return
		}
		if chunk, err := jobspec.DecodeRequest(in); err == nil {
			t.Fatalf("%q is a merge %+v and a chunk %+v", in, req, chunk)
		}
		if req.JobPath == "" || (req.ResultsURL == "") == (len(req.Outputs) == 0) {
			t.Fatalf("DecodeMergeRequest(%q) = %+v: want a jobPath, and outputs or resultsUrl", in, req)
		}
		seen := map[int64]bool{}
		for _, o := range req.Outputs {
			if o.Chunk < 0 || o.OutputBytes < 0 || o.OutputURL == "" || len(o.OutputSHA256) != 64 ||
				strings.Trim(o.OutputSHA256, "0123456789abcdef") != "" || seen[o.Chunk] {
				t.Fatalf("DecodeMergeRequest(%q): output %+v", in, o)
			}
			seen[o.Chunk] = true
		}
		data, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := jobspec.DecodeMergeRequest(data)
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip of %q: %+v, then %s: %+v, %v", in, req, data, again, err)
		}
	})
}
