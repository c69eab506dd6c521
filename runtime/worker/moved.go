package worker

import "github.com/helios-project/helios-scaffold/runtime/jobspec"

// The job spec, the invocation payload and command splitting live in
// package jobspec; these names keep code written against this package
// compiling. `go fix` rewrites their uses.

// JobSpec is the document at an invocation's jobPath.
//
// Deprecated: use [jobspec.Spec].
//
//go:fix inline
type JobSpec = jobspec.Spec

// Metadata describes the whole video.
//
// Deprecated: use [jobspec.Metadata].
//
//go:fix inline
type Metadata = jobspec.Metadata

// Chunk is one unit of work.
//
// Deprecated: use [jobspec.Chunk].
//
//go:fix inline
type Chunk = jobspec.Chunk

// Request is one invocation: which chunk of which job to run.
//
// Deprecated: use [jobspec.Request].
//
//go:fix inline
type Request = jobspec.Request

// ParseSpec decodes and validates a job spec.
//
// Deprecated: use [jobspec.Parse].
//
//go:fix inline
func ParseSpec(data []byte) (*jobspec.Spec, error) { return jobspec.Parse(data) }

// DecodeRequest decodes an invocation payload.
//
// Deprecated: use [jobspec.DecodeRequest].
//
//go:fix inline
func DecodeRequest(data []byte) (jobspec.Request, error) { return jobspec.DecodeRequest(data) }

// SplitCommand splits a chunk command into argv without a shell.
//
// Deprecated: use [jobspec.SplitCommand].
//
//go:fix inline
func SplitCommand(s string) ([]string, error) { return jobspec.SplitCommand(s) }

// Errors of package jobspec, under their old names.
//
// Deprecated: use the errors of package jobspec, which these are.
var (
	ErrAmbiguousJSON     = jobspec.ErrAmbiguousJSON
	ErrMissingChunks     = jobspec.ErrMissingChunks
	ErrChunkNotFound     = jobspec.ErrChunkNotFound
	ErrPayloadSyntax     = jobspec.ErrPayloadSyntax
	ErrPayloadNotObject  = jobspec.ErrPayloadNotObject
	ErrPayloadFields     = jobspec.ErrPayloadFields
	ErrChunkIndexRange   = jobspec.ErrChunkIndexRange
	ErrEmptyCommand      = jobspec.ErrEmptyCommand
	ErrUnterminated      = jobspec.ErrUnterminated
	ErrTrailingBackslash = jobspec.ErrTrailingBackslash
)
