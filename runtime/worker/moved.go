package worker

import (
	"os"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

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

// The store vocabulary (sources, sinks, objects, locations) lives in
// package store, which bucket stores import without the worker.

// A Source opens the documents that jobPath and assetsUrl name.
//
// Deprecated: use [store.Source].
//
//go:fix inline
type Source = store.Source

// A FolderSource is a Source that can also list and download a folder.
//
// Deprecated: use [store.FolderSource].
//
//go:fix inline
type FolderSource = store.FolderSource

// A Sink writes chunk outputs.
//
// Deprecated: use [store.Sink].
//
//go:fix inline
type Sink = store.Sink

// A Stater is a Sink that can tell whether an object exists.
//
// Deprecated: use [store.Stater].
//
//go:fix inline
type Stater = store.Stater

// A VersionedSource downloads the version of an object its listing gave.
//
// Deprecated: use [store.VersionedSource].
//
//go:fix inline
type VersionedSource = store.VersionedSource

// An Object is one file below a folder location.
//
// Deprecated: use [store.Object].
//
//go:fix inline
type Object = store.Object

// FileSource reads and writes local paths and file:// URLs.
//
// Deprecated: use [store.FileSource].
//
//go:fix inline
type FileSource = store.FileSource

// HTTPSource reads http:// and https:// URLs.
//
// Deprecated: use [store.HTTPSource].
//
//go:fix inline
type HTTPSource = store.HTTPSource

// JoinLocation appends a relative path to a folder location.
//
// Deprecated: use [store.JoinLocation].
//
//go:fix inline
func JoinLocation(folder, rel string) string { return store.JoinLocation(folder, rel) }

// SplitBucket splits a bucket location into the bucket and the key.
//
// Deprecated: use [store.SplitBucket] or [store.ParseLocation].
//
//go:fix inline
func SplitBucket(location string) (bucket, key string, err error) { return store.SplitBucket(location) }

// CreateTempBeside creates a new file to be renamed to name once whole.
//
// Deprecated: use [store.CreateTempBeside].
//
//go:fix inline
func CreateTempBeside(name string) (*os.File, error) { return store.CreateTempBeside(name) }

// Errors of package store, under their old names.
//
// Deprecated: use the errors of package store, which these are.
var (
	ErrNotFound     = store.ErrNotFound
	ErrAccessDenied = store.ErrAccessDenied
	ErrChanged      = store.ErrChanged
	ErrNoSource     = store.ErrNoSource
	ErrTooLarge     = store.ErrTooLarge
	ErrNotRegular   = store.ErrNotRegular
)
