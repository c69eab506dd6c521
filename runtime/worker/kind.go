package worker

import (
	"errors"
	"io/fs"
	"os/exec"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Kind says what kind of failure a [Result] holds, so that a caller can
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

// Kind is the kind of r's failure, "" for a success.
func (r *Result) Kind() Kind {
	switch {
	case r.OK():
		return ""
	case r.Err != nil:
		return KindOf(r.Err)
	}
	return KindFailed // the command ran to a non-zero exit, or a signal
}

// KindOf classifies err, a [Result]'s Err or an error of [DecodeRequest]:
// by the kind the worker gave it where it failed, else by the errors it
// wraps; an error that wraps none of the worker's is a store or the
// network failing ([KindStore]). nil is "".
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	if k, ok := LookupKind(err); ok {
		return k
	}
	return KindStore
}

// LookupKind is the kind that err carries, as [KindOf] classifies it,
// and whether it carries one: ok is false for nil and for an error that
// wraps none of the errors the worker classifies (which KindOf, for a
// Result's Err, takes for a store or the network failing). A caller that
// meets errors other than the worker's (an invoker's, say) tells the
// worker's apart by it.
func LookupKind(err error) (k Kind, ok bool) {
	if err == nil {
		return "", false
	}
	if ke, ok := errors.AsType[*kindError](err); ok {
		return ke.kind, true
	}
	for _, c := range kindsOf {
		for _, target := range c.errs {
			if errors.Is(err, target) {
				return c.kind, true
			}
		}
	}
	return "", false
}

// kindsOf classifies the errors that the worker wraps, in this order: a
// cancellation, timeout or idle kill first, whatever it interrupted.
var kindsOf = []struct {
	kind Kind
	errs []error
}{
	{KindCancelled, []error{ErrCanceled}},
	{KindTimeout, []error{ErrTimeout}},
	{KindIdle, []error{ErrIdle}},
	{KindNotAllowed, []error{ErrJobPathNotAllowed, store.ErrAccessDenied, fs.ErrPermission}},
	{KindPayload, []error{jobspec.ErrPayloadSyntax, jobspec.ErrPayloadNotObject, jobspec.ErrPayloadFields, jobspec.ErrChunkIndexRange}},
	{KindSpec, []error{jobspec.ErrAmbiguousJSON, jobspec.ErrMissingChunks, jobspec.ErrChunkNotFound, ErrOutsideWorkspace,
		store.ErrNoSource, store.ErrNotRegular, store.ErrTooLarge}},
	{KindCommand, []error{jobspec.ErrEmptyCommand, jobspec.ErrUnterminated, jobspec.ErrTrailingBackslash}},
	{KindOutput, []error{ErrOutputMissing}},
}

// kindError gives err a kind where the errors it wraps would not tell it,
// or would tell another (an outputFile over its limit wraps store.ErrTooLarge,
// as a spec over its limit does). Its text is err's.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// withKind marks err as of kind k; nil stays nil.
func withKind(k Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: k, err: err}
}

// startKind is the kind of a failure to start a chunk's command: the
// command's own fault ([KindCommand]) when the system says that this
// executable cannot be run, the worker's ([KindWorker]) when it ran out
// of something (file descriptors, processes, memory).
func startKind(err error) Kind {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, exec.ErrDot) ||
		errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return KindCommand
	}
	for _, errno := range []syscall.Errno{syscall.ENOEXEC, syscall.ENOTDIR, syscall.EISDIR,
		syscall.EINVAL, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.E2BIG} {
		if errors.Is(err, errno) {
			return KindCommand
		}
	}
	return KindWorker
}
