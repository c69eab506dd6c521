package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Spec is the document at an invocation's jobPath. ID may be absent
// (the Helios CLI's render --emit-job writes none); the worker then
// names the job after the spec's file name. OutputURL, when set, is the
// folder that each chunk's OutputFile is uploaded to.
type Spec struct {
	ID           string   `json:"id"`
	AssetsURL    string   `json:"assetsUrl,omitempty"`
	OutputURL    string   `json:"outputUrl,omitempty"`
	Metadata     Metadata `json:"metadata"`
	Chunks       []Chunk  `json:"chunks"`
	MergeCommand string   `json:"mergeCommand,omitempty"`
}

// Metadata describes the whole video.
type Metadata struct {
	TotalFrames int     `json:"totalFrames"`
	FPS         float64 `json:"fps"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Duration    float64 `json:"duration"`
}

// Chunk is one unit of work: a command that renders a range of frames.
type Chunk struct {
	ID         int64  `json:"id"`
	StartFrame int64  `json:"startFrame"`
	FrameCount int64  `json:"frameCount"`
	OutputFile string `json:"outputFile"`
	Command    string `json:"command"`
}

// ErrMissingChunks is returned by [Parse] for a spec whose chunks is
// not an array. Its text is part of the wire contract.
//
//lint:ignore ST1005 the wire contract fixes this text, capital included
var ErrMissingChunks = errors.New("Invalid JobSpec: missing chunks array")

// ErrChunkNotFound is wrapped by [Spec.Chunk] when no chunk has the id.
var ErrChunkNotFound = errors.New("chunk not found")

// chunkNotFoundError carries the contract's exact message.
type chunkNotFoundError struct{ id int64 }

func (e chunkNotFoundError) Error() string {
	return fmt.Sprintf("Chunk with ID %d not found in job spec", e.id)
}

func (e chunkNotFoundError) Unwrap() error { return ErrChunkNotFound }

// Parse decodes and validates a job spec. Besides what
// encoding/json refuses, it refuses what could be read two ways (see
// [ErrAmbiguousJSON]): a key twice in an object, a key that differs from
// a field only in case, two chunks with one id. Fields it does not know
// are allowed: the Helios CLI writes more than the worker reads.
func Parse(data []byte) (*Spec, error) {
	var probe struct {
		Chunks json.RawMessage `json:"chunks"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("decoding job spec: %w", quietJSON(err))
	}
	if err := checkKeys(data, specShape); err != nil {
		return nil, fmt.Errorf("decoding job spec: %w", err)
	}
	if c := bytes.TrimSpace(probe.Chunks); len(c) == 0 || c[0] != '[' {
		return nil, ErrMissingChunks
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding job spec: %w", quietJSON(err))
	}
	seen := make(map[int64]int, len(s.Chunks))
	for i, c := range s.Chunks {
		if j, ok := seen[c.ID]; ok {
			return nil, fmt.Errorf("decoding job spec: %w: chunks[%d] and chunks[%d] both have id %d", ErrAmbiguousJSON, j, i, c.ID)
		}
		seen[c.ID] = i
	}
	return &s, nil
}

// quietJSON replaces a syntax error, whose text quotes the offending
// byte, with one that gives its offset only.
func quietJSON(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("not valid JSON (syntax error at byte %d)", se.Offset)
	}
	return err
}

// Chunk returns the chunk whose id (not array position) is id.
func (s *Spec) Chunk(id int64) (*Chunk, error) {
	for i := range s.Chunks {
		if s.Chunks[i].ID == id {
			return &s.Chunks[i], nil
		}
	}
	return nil, chunkNotFoundError{id}
}
