package worker

import (
	"errors"
	"io/fs"
	"os/exec"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// Kind says what kind of failure a [Result] holds, so that a caller can
// tell a failure that the same invocation gives again from one that may
// pass, without reading its message. The worker classifies its own
// failures; the platforms send the kind as "errorKind" in every answer but
// a success, and the callers read it into CallResult.ErrorKind.
// [Kind.Final] tells those that trying again cannot help.
type Kind = fault.Kind

// The kinds of failure; see each constant's doc in the list below.
const (
	KindPayload    = fault.KindPayload    // the invocation itself is bad
	KindSpec       = fault.KindSpec       // the spec, the chunk, its outputFile, output location or assets
	KindNotAllowed = fault.KindNotAllowed // jobPath outside the allowlist, credentials or permissions refused
	KindCommand    = fault.KindCommand    // the command could not be started
	KindOutput     = fault.KindOutput     // exited 0 without a usable outputFile
	KindConfig     = fault.KindConfig     // the worker's configuration is not valid
	KindFailed     = fault.KindFailed     // the command exited non-zero or a signal killed it
	KindTimeout    = fault.KindTimeout    // the time ran out
	KindIdle       = fault.KindIdle       // killed for idleness (HELIOS_CHUNK_IDLE_TIMEOUT)
	KindCancelled  = fault.KindCancelled  // the invocation was cancelled
	KindStore      = fault.KindStore      // a store or the network failed
	KindWorker     = fault.KindWorker     // the worker could not do its own part
)

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

// KindOf classifies err, a [Result]'s Err or an error of [jobspec.DecodeRequest]:
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
	if k, ok := fault.Carried(err); ok {
		return k, true
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
	{KindPayload, []error{jobspec.ErrPayloadSyntax, jobspec.ErrPayloadNotObject, jobspec.ErrPayloadFields, jobspec.ErrChunkIndexRange, jobspec.ErrAttempt, jobspec.ErrFailAsError}},
	{KindSpec, []error{jobspec.ErrAmbiguousJSON, jobspec.ErrMissingChunks, jobspec.ErrChunkNotFound, ErrOutsideWorkspace,
		store.ErrNoSource, store.ErrNotRegular, store.ErrTooLarge}},
	{KindCommand, []error{jobspec.ErrEmptyCommand, jobspec.ErrUnterminated, jobspec.ErrTrailingBackslash}},
	{KindOutput, []error{ErrOutputMissing}},
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
