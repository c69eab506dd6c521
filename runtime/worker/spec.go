package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// JobSpec is the document at an invocation's jobPath. ID may be absent
// (the Helios CLI's render --emit-job writes none); [Worker.Run] then
// names the job after the spec's file name. OutputURL, when set, is the
// folder that each chunk's OutputFile is uploaded to.
type JobSpec struct {
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

// ErrMissingChunks is returned by [ParseSpec] for a spec whose chunks is
// not an array. Its text is part of the wire contract.
//
//lint:ignore ST1005 the wire contract fixes this text, capital included
var ErrMissingChunks = errors.New("Invalid JobSpec: missing chunks array")

// ErrChunkNotFound is wrapped by [JobSpec.Chunk] when no chunk has the id.
var ErrChunkNotFound = errors.New("chunk not found")

// chunkNotFoundError carries the contract's exact message.
type chunkNotFoundError struct{ id int64 }

func (e chunkNotFoundError) Error() string {
	return fmt.Sprintf("Chunk with ID %d not found in job spec", e.id)
}

func (e chunkNotFoundError) Unwrap() error { return ErrChunkNotFound }

// ParseSpec decodes and validates a job spec.
func ParseSpec(data []byte) (*JobSpec, error) {
	var probe struct {
		Chunks json.RawMessage `json:"chunks"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("decoding job spec: %w", err)
	}
	if c := bytes.TrimSpace(probe.Chunks); len(c) == 0 || c[0] != '[' {
		return nil, ErrMissingChunks
	}
	var s JobSpec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding job spec: %w", err)
	}
	return &s, nil
}

// Chunk returns the chunk whose id (not array position) is id.
func (s *JobSpec) Chunk(id int64) (*Chunk, error) {
	for i := range s.Chunks {
		if s.Chunks[i].ID == id {
			return &s.Chunks[i], nil
		}
	}
	return nil, chunkNotFoundError{id}
}
