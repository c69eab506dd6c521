package worker

import (
	"strconv"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// Errors that a [Result] may hold.
var (
	// ErrTimeout: the chunk ran out of time and was killed.
	ErrTimeout = fault.ErrTimeout
	// ErrCanceled: the invocation was cancelled (client gone, shutdown).
	ErrCanceled = fault.ErrCanceled
	// ErrIdle: the chunk wrote nothing to stdout or stderr and grew no
	// file in its workspace for Config.ChunkIdleTimeout, and was killed.
	// The error that wraps it reads "chunk 3: no output for 300 s; killed
	// (HELIOS_CHUNK_IDLE_TIMEOUT)".
	ErrIdle = fault.ErrIdle
)

// Result is the outcome of one invocation.
type Result struct {
	// Started reports whether the chunk's command ran. When false, Err
	// says why it could not (spec unreadable, chunk not found, command
	// not found) and the other fields are empty.
	Started bool
	// ExitCode is the command's exit code; 128+n when signal n killed it,
	// and -1 when the worker killed it for a timeout or cancellation.
	ExitCode int
	// Signal names the signal that killed the command, if one did.
	Signal string
	// Stdout and Stderr hold the tail of each stream, at most
	// Config.OutputLimit bytes, starting at a character boundary.
	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated report a cut front.
	StdoutTruncated, StderrTruncated bool
	// StdoutBytes and StderrBytes count everything printed.
	StdoutBytes, StderrBytes int64
	// Duration is the command's wall time.
	Duration time.Duration
	// Renderer says how the command ran, once it started: RendererProcess,
	// or RendererWarm (a `helios render` in the warm renderer).
	Renderer string
	// OutputURL is where the chunk's outputFile was uploaded, OutputBytes
	// its size and OutputSHA256 the SHA-256 of the bytes that were sent,
	// in lowercase hex; all are empty when nothing was uploaded.
	OutputURL    string
	OutputBytes  int64
	OutputSHA256 string
	// Err is nil when the command ran to its own exit; otherwise it wraps
	// ErrTimeout, ErrIdle, ErrCanceled or the reason the command could
	// not run.
	// [Result.Kind] classifies it.
	Err error

	clean bool // nothing the command started was left: its workspace may be reused
}

// OK reports whether the command ran and exited 0.
func (r *Result) OK() bool { return r.Started && r.Err == nil && r.ExitCode == 0 }

// Message is a one-line reason for any outcome but success, "" for success.
func (r *Result) Message() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != "":
		return "chunk command killed by signal " + r.Signal
	case r.ExitCode != 0:
		return "chunk command exited with code " + strconv.Itoa(r.ExitCode)
	}
	return ""
}
