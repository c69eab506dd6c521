package jobspec_test

import (
	"errors"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

const contractSpec = `{
  "id": "job-42",
  "assetsUrl": "s3://renders/job-42/assets",
  "metadata": {"totalFrames": 600, "fps": 30, "width": 1920, "height": 1080, "duration": 20},
  "chunks": [
    {"id": 0, "startFrame": 0, "frameCount": 150, "outputFile": "chunk_0.mp4",
     "command": "npx helios render --start-frame 0 --frame-count 150 -o chunk_0.mp4"}
  ],
  "mergeCommand": "ffmpeg -f concat -safe 0 -i chunks.txt -c copy out.mp4"
}`

func TestParseSpecContractExample(t *testing.T) {
	s, err := jobspec.Parse([]byte(contractSpec))
	if err != nil {
		t.Fatal(err)
	}
	want := jobspec.Spec{
		ID:        "job-42",
		AssetsURL: "s3://renders/job-42/assets",
		Metadata:  jobspec.Metadata{TotalFrames: 600, FPS: 30, Width: 1920, Height: 1080, Duration: 20},
		Chunks: []jobspec.Chunk{{ID: 0, StartFrame: 0, FrameCount: 150, OutputFile: "chunk_0.mp4",
			Command: "npx helios render --start-frame 0 --frame-count 150 -o chunk_0.mp4"}},
		MergeCommand: "ffmpeg -f concat -safe 0 -i chunks.txt -c copy out.mp4",
	}
	if s.ID != want.ID || s.AssetsURL != want.AssetsURL || s.Metadata != want.Metadata ||
		s.MergeCommand != want.MergeCommand || len(s.Chunks) != 1 || s.Chunks[0] != want.Chunks[0] {
		t.Errorf("Parse = %+v\nwant %+v", *s, want)
	}
}

func TestParseSpecMissingChunks(t *testing.T) {
	for name, doc := range map[string]string{
		"missing":   `{"id":"j"}`,
		"null":      `{"id":"j","chunks":null}`,
		"object":    `{"id":"j","chunks":{"0":{"id":0}}}`,
		"string":    `{"id":"j","chunks":"[]"}`,
		"number":    `{"id":"j","chunks":3}`,
		"empty doc": `{}`,
		"null doc":  `null`,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := jobspec.Parse([]byte(doc))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", doc, s)
			}
			if !errors.Is(err, jobspec.ErrMissingChunks) {
				t.Errorf("Parse(%s): error %v does not wrap ErrMissingChunks", doc, err)
			}
			if got := err.Error(); got != "Invalid JobSpec: missing chunks array" {
				t.Errorf("Parse(%s): error text %q", doc, got)
			}
		})
	}
}

func TestParseSpecEmptyChunks(t *testing.T) {
	s, err := jobspec.Parse([]byte(`{"id":"j","chunks":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Chunk(0); !errors.Is(err, jobspec.ErrChunkNotFound) {
		t.Errorf("Chunk(0) of no chunks: %v", err)
	}
}

func TestParseSpecInvalid(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":           ``,
		"not JSON":        `nope`,
		"truncated":       `{"chunks":[`,
		"array":           `[{"id":0}]`,
		"chunk id string": `{"chunks":[{"id":"0"}]}`,
		"chunk not obj":   `{"chunks":[3]}`,
		"id number":       `{"id":5,"chunks":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := jobspec.Parse([]byte(doc))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", doc, s)
			}
			if errors.Is(err, jobspec.ErrMissingChunks) {
				t.Errorf("Parse(%q): %v; want a decoding error, not ErrMissingChunks", doc, err)
			}
		})
	}
}

func TestChunkByID(t *testing.T) {
	s, err := jobspec.Parse([]byte(`{"id":"j","chunks":[
		{"id":5,"command":"five"},{"id":2,"command":"two"},{"id":0,"command":"zero"},{"id":1,"command":"one"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{0: "zero", 1: "one", 2: "two", 5: "five"} {
		c, err := s.Chunk(id)
		if err != nil {
			t.Errorf("Chunk(%d): %v", id, err)
			continue
		}
		if c.ID != id || c.Command != want {
			t.Errorf("Chunk(%d) = %+v, want the chunk whose command is %q", id, *c, want)
		}
	}
	// The pointer is into the spec, not a copy.
	if c, _ := s.Chunk(2); c != &s.Chunks[1] {
		t.Errorf("Chunk(2) does not point at Chunks[1]")
	}
}

func TestChunkNotFound(t *testing.T) {
	s, err := jobspec.Parse([]byte(`{"id":"j","chunks":[{"id":0},{"id":1},{"id":2},{"id":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int64
		text string
	}{
		{7, "Chunk with ID 7 not found in job spec"},
		{4, "Chunk with ID 4 not found in job spec"},
		{-1, "Chunk with ID -1 not found in job spec"},
	} {
		c, err := s.Chunk(tc.id)
		if err == nil {
			t.Errorf("Chunk(%d) = %+v, want an error", tc.id, *c)
			continue
		}
		if c != nil {
			t.Errorf("Chunk(%d) returned a chunk with its error", tc.id)
		}
		if err.Error() != tc.text {
			t.Errorf("Chunk(%d): error text %q, want %q", tc.id, err.Error(), tc.text)
		}
		if !errors.Is(err, jobspec.ErrChunkNotFound) {
			t.Errorf("Chunk(%d): error %v does not wrap ErrChunkNotFound", tc.id, err)
		}
	}
}

// A spec that could be read two ways is refused, naming the key or the
// id; what encoding/json would let through is not.
func TestParseSpecAmbiguous(t *testing.T) {
	tests := []struct{ name, doc, msg string }{
		{"chunks twice", `{"chunks":[],"chunks":[{"id":0,"command":"evil"}]}`,
			`decoding job spec: ambiguous JSON: key "chunks" appears twice`},
		{"command twice in a chunk", `{"chunks":[{"id":0,"command":"a"},{"id":1,"command":"b","command":"c"}]}`,
			`decoding job spec: ambiguous JSON: key "command" appears twice in chunks[1]`},
		{"fps twice in metadata", `{"metadata":{"fps":30,"fps":60},"chunks":[]}`,
			`decoding job spec: ambiguous JSON: key "fps" appears twice in metadata`},
		{"a key twice in an extra field", `{"x":{"y":[{"k":1,"k":2}]},"chunks":[]}`,
			`decoding job spec: ambiguous JSON: key "k" appears twice in x.y[0]`},
		{"Chunks", `{"Chunks":[{"id":0,"command":"true"}]}`,
			`decoding job spec: ambiguous JSON: key "Chunks" is not "chunks" (keys are case-sensitive)`},
		{"outputURL", `{"outputURL":"s3://b/o","chunks":[]}`,
			`decoding job spec: ambiguous JSON: key "outputURL" is not "outputUrl" (keys are case-sensitive)`},
		{"Command in a chunk", `{"chunks":[{"id":0,"Command":"true"}]}`,
			`decoding job spec: ambiguous JSON: key "Command" in chunks[0] is not "command" (keys are case-sensitive)`},
		{"two chunks with one id", `{"chunks":[{"id":0},{"id":1},{"id":0}]}`,
			`decoding job spec: ambiguous JSON: chunks[0] and chunks[2] both have id 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jobspec.Parse([]byte(tt.doc))
			if !errors.Is(err, jobspec.ErrAmbiguousJSON) || err.Error() != tt.msg {
				t.Fatalf("Parse(%s) = %+v, %v; want %q", tt.doc, s, err, tt.msg)
			}
		})
	}
	for _, doc := range []string{
		`{"chunks":[{"id":0,"k":1},{"id":1,"k":1}]}`, // the same key in two objects
		`{"chunks":[],"Extra":1,"extra":2}`,          // unknown keys differing in case
		`{"chunks":[],"metadata":{"codec":"h264"}}`,  // unknown fields
	} {
		if _, err := jobspec.Parse([]byte(doc)); err != nil {
			t.Errorf("Parse(%s): %v", doc, err)
		}
	}
}

// A syntax error names where it is, not the bytes it found.
func TestParseSpecSyntaxErrorQuotesNothing(t *testing.T) {
	_, err := jobspec.Parse([]byte("Zecret"))
	if err == nil || err.Error() != "decoding job spec: not valid JSON (syntax error at byte 1)" {
		t.Fatalf("Parse(Zecret): %v", err)
	}
}
