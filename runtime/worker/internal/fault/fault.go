// Package fault classifies the worker's failures: the [Kind] that a
// failure is of, given where it happened ([With]) and read back by
// [Carried], and the errors of a chunk that time, idleness or a
// cancellation stopped ([ErrTimeout], [ErrIdle], [ErrCanceled],
// [StopReason]). Package worker re-exports them; the worker's internal
// packages use them so that every failure is classified by type, where it
// happens, never by its text.
package fault

import (
	"context"
	"errors"
	"fmt"
)

// Kind says what kind of failure a Result holds, so that a caller can
// tell a failure that the same invocation gives again from one that may
// pass, without reading its message. The worker classifies its own
// failures; the platforms send the kind as "errorKind" in every answer but
// a success, and the callers read it into CallResult.ErrorKind.
type Kind string

// The kinds of failure. [Kind.Final] tells those that trying again cannot
// help.
const (
	// KindPayload: the invocation itself is bad (no jobPath, a chunkIndex
	// out of range, a body that is not JSON).
	KindPayload Kind = "payload"
	// KindSpec: the job spec is not valid (it does not parse, is
	// ambiguous, too large or not a regular file), the chunk is not in it,
	// or the chunk's outputFile, output location or assets cannot be used
	// (a NUL byte, a path outside the workspace, a store that cannot
	// write, assets over their limit).
	KindSpec Kind = "spec"
	// KindNotAllowed: the jobPath is outside HELIOS_ALLOWED_JOB_PATHS, a
	// store refused the worker's credentials, or a local file or folder
	// its permissions.
	KindNotAllowed Kind = "not-allowed"
	// KindCommand: the chunk's command could not be started: it is empty
	// or badly quoted, its executable is not found or may not be run.
	KindCommand Kind = "command"
	// KindOutput: the command exited 0 but its outputFile is missing, is
	// not a regular file, or is over HELIOS_OUTPUT_MAX_BYTES.
	KindOutput Kind = "output"
	// KindConfig: the worker's own configuration is not valid; every
	// invocation of this worker fails alike.
	KindConfig Kind = "config"
	// KindFailed: the command ran and exited non-zero, or a signal
	// killed it.
	KindFailed Kind = "failed"
	// KindTimeout: the time ran out (the chunk's timeout, the platform's
	// deadline, the assets' timeout) and what was running was killed.
	KindTimeout Kind = "timeout"
	// KindIdle: the command wrote nothing to stdout or stderr and grew
	// no file in its workspace for HELIOS_CHUNK_IDLE_TIMEOUT, and was
	// killed ([ErrIdle]). A hung renderer (a browser that stopped
	// answering, say) may well run on another try or another instance.
	KindIdle Kind = "idle"
	// KindCancelled: the invocation was cancelled (its client went away,
	// the worker was shut down).
	KindCancelled Kind = "cancelled"
	// KindStore: a store or the network failed while the spec or the
	// assets were read or the output put; it may pass.
	KindStore Kind = "store"
	// KindWorker: the worker could not do its own part (no file
	// descriptor, process or disk space for the workspace); another try,
	// or another instance, may succeed.
	KindWorker Kind = "worker"
)

// Final reports whether the same invocation fails alike however often it
// is tried: payload, spec, not-allowed, command, output and config. A
// failed command and a timeout are the command's doing, which a caller
// may choose to try again; the other kinds, idle among them, may pass.
func (k Kind) Final() bool {
	switch k {
	case KindPayload, KindSpec, KindNotAllowed, KindCommand, KindOutput, KindConfig:
		return true
	}
	return false
}

// Errors that stop a chunk.
var (
	// ErrTimeout: the chunk ran out of time and was killed.
	ErrTimeout = errors.New("chunk timed out")
	// ErrCanceled: the invocation was cancelled (client gone, shutdown).
	ErrCanceled = errors.New("chunk cancelled")
	// ErrIdle: the chunk wrote nothing to stdout or stderr and grew no
	// file in its workspace for Config.ChunkIdleTimeout, and was killed.
	// The error that wraps it reads "chunk 3: no output for 300 s; killed
	// (HELIOS_CHUNK_IDLE_TIMEOUT)".
	ErrIdle = errors.New("no output")
)

// kindError gives err a kind where the errors it wraps would not tell it,
// or would tell another (an outputFile over its limit wraps
// store.ErrTooLarge, as a spec over its limit does). Its text is err's.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// With marks err as of kind k; nil stays nil.
func With(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: k, err: err}
}

// Carried is the kind that With gave err (or an error it wraps), and
// whether it was given one.
func Carried(err error) (Kind, bool) {
	if ke, ok := errors.AsType[*kindError](err); ok {
		return ke.kind, true
	}
	return "", false
}

// StopReason explains why ctx ended: its cause when that is a timeout or
// an idle kill, ErrCanceled otherwise.
func StopReason(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrTimeout) || errors.Is(cause, ErrIdle) {
		return cause
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("%w: deadline exceeded", ErrTimeout)
	}
	if cause != nil && !errors.Is(cause, context.Canceled) {
		return fmt.Errorf("%w: %w", ErrCanceled, cause)
	}
	return ErrCanceled
}
