package jobspec_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

type decodeCase struct {
	name string
	in   string
	want jobspec.Request
	err  error
}

var decodeCases = []decodeCase{
	// Accepted.
	{name: "valid", in: `{"jobPath":"s3://renders/job-42.json","chunkIndex":3}`,
		want: jobspec.Request{JobPath: "s3://renders/job-42.json", ChunkIndex: 3}},
	{name: "extra fields ignored", in: `{"foo":[1,{"a":null}],"jobPath":"/x.json","bar":"b","chunkIndex":1,"baz":{}}`,
		want: jobspec.Request{JobPath: "/x.json", ChunkIndex: 1}},
	{name: "surrounding whitespace", in: " \n\t{ \"jobPath\" : \"j\" , \"chunkIndex\" : 2 }\r\n",
		want: jobspec.Request{JobPath: "j", ChunkIndex: 2}},
	{name: "chunkIndex 0", in: `{"jobPath":"j","chunkIndex":0}`, want: jobspec.Request{JobPath: "j", ChunkIndex: 0}},
	{name: "chunkIndex 3", in: `{"jobPath":"j","chunkIndex":3}`, want: jobspec.Request{JobPath: "j", ChunkIndex: 3}},
	{name: "chunkIndex 1.0", in: `{"jobPath":"j","chunkIndex":1.0}`, want: jobspec.Request{JobPath: "j", ChunkIndex: 1}},
	{name: "chunkIndex 1e2", in: `{"jobPath":"j","chunkIndex":1e2}`, want: jobspec.Request{JobPath: "j", ChunkIndex: 100}},
	{name: "chunkIndex 1E0", in: `{"jobPath":"j","chunkIndex":1E0}`, want: jobspec.Request{JobPath: "j", ChunkIndex: 1}},
	{name: "chunkIndex large", in: `{"jobPath":"j","chunkIndex":9007199254740991}`,
		want: jobspec.Request{JobPath: "j", ChunkIndex: 1<<53 - 1}},
	{name: "attempt 2", in: `{"jobPath":"j","chunkIndex":0,"attempt":2}`, want: jobspec.Request{JobPath: "j", Attempt: 2}},
	{name: "attempt 1000", in: `{"jobPath":"j","chunkIndex":0,"attempt":1000}`, want: jobspec.Request{JobPath: "j", Attempt: 1000}},
	{name: "failAsError true", in: `{"jobPath":"j","chunkIndex":0,"failAsError":true}`, want: jobspec.Request{JobPath: "j", FailAsError: true}},
	{name: "failAsError false", in: `{"jobPath":"j","chunkIndex":0,"failAsError":false}`, want: jobspec.Request{JobPath: "j"}},
	{name: "failAsError string", in: `{"jobPath":"j","chunkIndex":0,"failAsError":"true"}`, err: jobspec.ErrFailAsError},
	{name: "failAsError 1", in: `{"jobPath":"j","chunkIndex":0,"failAsError":1}`, err: jobspec.ErrFailAsError},
	{name: "FailAsError ambiguous", in: `{"jobPath":"j","chunkIndex":0,"FailAsError":true}`, err: jobspec.ErrAmbiguousJSON},
	{name: "attempt 0", in: `{"jobPath":"j","chunkIndex":0,"attempt":0}`, err: jobspec.ErrAttempt},
	{name: "attempt 1001", in: `{"jobPath":"j","chunkIndex":0,"attempt":1001}`, err: jobspec.ErrAttempt},
	{name: "attempt 2.0", in: `{"jobPath":"j","chunkIndex":0,"attempt":2.0}`, err: jobspec.ErrAttempt},
	{name: "attempt string", in: `{"jobPath":"j","chunkIndex":0,"attempt":"2"}`, err: jobspec.ErrAttempt},
	{name: "attempt null", in: `{"jobPath":"j","chunkIndex":0,"attempt":null}`, err: jobspec.ErrAttempt},
	{name: "attempt twice", in: `{"jobPath":"j","chunkIndex":0,"attempt":2,"Attempt":3}`, err: jobspec.ErrAmbiguousJSON},
	{name: "jobPath escapes", in: `{"jobPath":"a\u00e9\/b","chunkIndex":0}`, want: jobspec.Request{JobPath: "aé/b"}},

	// chunkIndex missing or of the wrong type.
	{name: "chunkIndex string", in: `{"jobPath":"j","chunkIndex":"0"}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex 1.5", in: `{"jobPath":"j","chunkIndex":1.5}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex -1", in: `{"jobPath":"j","chunkIndex":-1}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex -0.5", in: `{"jobPath":"j","chunkIndex":-0.5}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex null", in: `{"jobPath":"j","chunkIndex":null}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex 1e400", in: `{"jobPath":"j","chunkIndex":1e400}`, err: jobspec.ErrChunkIndexRange},
	{name: "chunkIndex true", in: `{"jobPath":"j","chunkIndex":true}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex object", in: `{"jobPath":"j","chunkIndex":{}}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex array", in: `{"jobPath":"j","chunkIndex":[]}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex missing", in: `{"jobPath":"j"}`, err: jobspec.ErrPayloadFields},
	{name: "chunkIndex past int64", in: `{"jobPath":"j","chunkIndex":1e19}`, err: jobspec.ErrChunkIndexRange},
	{name: "chunkIndex 2^63", in: `{"jobPath":"j","chunkIndex":9223372036854775808}`, err: jobspec.ErrChunkIndexRange},
	{name: "chunkIndex 2^53 as a float", in: `{"jobPath":"j","chunkIndex":9007199254740992.0}`, err: jobspec.ErrChunkIndexRange},
	{name: "chunkIndex -2^63-1", in: `{"jobPath":"j","chunkIndex":-9223372036854775809}`, err: jobspec.ErrPayloadFields},

	// jobPath missing or of the wrong type.
	{name: "jobPath empty", in: `{"jobPath":"","chunkIndex":0}`, err: jobspec.ErrPayloadFields},
	{name: "jobPath missing", in: `{"chunkIndex":0}`, err: jobspec.ErrPayloadFields},
	{name: "jobPath number", in: `{"jobPath":5,"chunkIndex":0}`, err: jobspec.ErrPayloadFields},
	{name: "jobPath null", in: `{"jobPath":null,"chunkIndex":0}`, err: jobspec.ErrPayloadFields},
	{name: "jobPath array", in: `{"jobPath":["j"],"chunkIndex":0}`, err: jobspec.ErrPayloadFields},
	{name: "empty object", in: `{}`, err: jobspec.ErrPayloadFields},

	// Readable two ways.
	{name: "keys are case-sensitive", in: `{"JobPath":"j","ChunkIndex":0}`, err: jobspec.ErrAmbiguousJSON},
	{name: "other-case key beside jobPath", in: `{"jobPath":"j","JOBPATH":5,"chunkIndex":0}`, err: jobspec.ErrAmbiguousJSON},
	{name: "jobPath twice", in: `{"jobPath":"a","chunkIndex":0,"jobPath":"b"}`, err: jobspec.ErrAmbiguousJSON},
	{name: "chunkIndex twice", in: `{"jobPath":"a","chunkIndex":0,"chunkIndex":1}`, err: jobspec.ErrAmbiguousJSON},
	{name: "a key twice in an extra field", in: `{"jobPath":"a","chunkIndex":0,"x":{"k":1,"k":2}}`, err: jobspec.ErrAmbiguousJSON},
	{name: "same key in sibling objects", in: `{"jobPath":"a","chunkIndex":0,"x":[{"k":1},{"k":2}]}`,
		want: jobspec.Request{JobPath: "a"}},

	// Not an object.
	{name: "empty array", in: `[]`, err: jobspec.ErrPayloadNotObject},
	{name: "array", in: `[1]`, err: jobspec.ErrPayloadNotObject},
	{name: "string", in: `"s"`, err: jobspec.ErrPayloadNotObject},
	{name: "number", in: `3`, err: jobspec.ErrPayloadNotObject},
	{name: "null", in: `null`, err: jobspec.ErrPayloadNotObject},
	{name: "array of object", in: ` [{"jobPath":"j","chunkIndex":0}]`, err: jobspec.ErrPayloadNotObject},

	// Not JSON.
	{name: "empty", in: ``, err: jobspec.ErrPayloadSyntax},
	{name: "whitespace", in: " \n\t\r ", err: jobspec.ErrPayloadSyntax},
	{name: "open brace", in: `{`, err: jobspec.ErrPayloadSyntax},
	{name: "word", in: `nope`, err: jobspec.ErrPayloadSyntax},
	{name: "trailing garbage", in: `{"jobPath":"j","chunkIndex":0}x`, err: jobspec.ErrPayloadSyntax},
	{name: "two objects", in: `{"jobPath":"j","chunkIndex":0}{}`, err: jobspec.ErrPayloadSyntax},
	{name: "non-JSON whitespace", in: "\f{\"jobPath\":\"j\",\"chunkIndex\":0}", err: jobspec.ErrPayloadSyntax},
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jobspec.DecodeRequest([]byte(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("DecodeRequest(%q) = %+v, %v; want error %v", tc.in, got, err, tc.err)
				}
				if got != (jobspec.Request{}) {
					t.Errorf("DecodeRequest(%q) returned %+v with an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeRequest(%q): unexpected error %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("DecodeRequest(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// The errors are distinct, so that the platforms can map each to its
// own wire message.
func TestDecodeRequestErrorsDistinct(t *testing.T) {
	errs := []error{jobspec.ErrPayloadSyntax, jobspec.ErrPayloadNotObject, jobspec.ErrPayloadFields, jobspec.ErrChunkIndexRange, jobspec.ErrAmbiguousJSON, jobspec.ErrAttempt,
		jobspec.ErrFailAsError}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) is true", a, b)
			}
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := jobspec.DecodeRequest(in)
		if err != nil {
			if !errors.Is(err, jobspec.ErrPayloadSyntax) && !errors.Is(err, jobspec.ErrPayloadNotObject) &&
				!errors.Is(err, jobspec.ErrPayloadFields) && !errors.Is(err, jobspec.ErrChunkIndexRange) &&
				!errors.Is(err, jobspec.ErrAmbiguousJSON) && !errors.Is(err, jobspec.ErrAttempt) && !errors.Is(err, jobspec.ErrFailAsError) {
				t.Fatalf("DecodeRequest(%q): undocumented error %v", in, err)
			}
			return
		}
		if req.JobPath == "" || req.ChunkIndex < 0 || req.Attempt < 0 || req.Attempt > jobspec.MaxAttempt {
			t.Fatalf("DecodeRequest(%q) = %+v: want a non-empty jobPath and a non-negative chunkIndex", in, req)
		}
		data, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("json.Marshal(%+v): %v", req, err)
		}
		again, err := jobspec.DecodeRequest(data)
		if err != nil {
			t.Fatalf("DecodeRequest(%s) (re-marshalled from %q): %v", data, in, err)
		}
		if again != req {
			t.Fatalf("round trip of %q: %+v, then %+v", in, req, again)
		}
	})
}

func TestAttemptName(t *testing.T) {
	tests := []struct {
		file    string
		attempt int
		want    string
	}{
		{"out_part_3.mp4", 0, "out_part_3.mp4"},
		{"out_part_3.mp4", 1, "out_part_3.mp4"},
		{"out_part_3.mp4", 2, "out_part_3.attempt-2.mp4"},
		{"parts/a.b/out.tar.gz", 12, "parts/a.b/out.tar.attempt-12.gz"},
		{"parts/out", 3, "parts/out.attempt-3"},
		{".hidden", 2, ".hidden.attempt-2"},
	}
	for _, tc := range tests {
		if got := jobspec.AttemptName(tc.file, tc.attempt); got != tc.want {
			t.Errorf("AttemptName(%q, %d) = %q, want %q", tc.file, tc.attempt, got, tc.want)
		}
	}
}
