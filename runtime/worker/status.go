package worker

import (
	"errors"
	"net/http"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// Status is the contract's status for r, the one decision that both
// platforms (runtime/awslambda's statusCode, runtime/cloudrun's HTTP
// status) and fanout's local target make of a Result, each in its own
// wire format:
//
//   - 200: the command exited 0 (and its outputFile, when due, was put);
//   - 500: the command ran and failed: it exited non-zero, a signal, the
//     timeout, the idle watch or a cancellation killed it, or its output
//     is missing or could not be put;
//   - for an invocation refused before its chunk ran, [StatusOf] its Err:
//     403, 400 or 500.
func (r *Result) Status() int {
	switch {
	case r.OK():
		return http.StatusOK
	case r.Started, r.Err == nil:
		return http.StatusInternalServerError
	}
	return StatusOf(r.Err)
}

// StatusOf is the contract's status for an invocation refused with err
// before its chunk ran: a [Result]'s Err, or an error of
// [jobspec.DecodeRequest]. It goes by the errors that err wraps, never by
// its text:
//
//   - 403: the jobPath is outside HELIOS_ALLOWED_JOB_PATHS
//     ([ErrJobPathNotAllowed]); nothing was fetched;
//   - 400: the payload or the spec could be read two ways
//     ([jobspec.ErrAmbiguousJSON]: a key twice, a key that differs from a
//     known one only in case, two chunks with one id), or the payload is
//     not valid ([jobspec.ErrPayloadSyntax], [jobspec.ErrPayloadNotObject],
//     [jobspec.ErrPayloadFields], [jobspec.ErrChunkIndexRange]): every
//     error of DecodeRequest is a 400;
//   - 500: anything else: the chunk could not run (the spec unreadable or
//     not valid, the chunk not found, the command not found, a store or
//     the worker failing, its time out).
//
// nil is 200.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	for _, s := range statusesOf {
		for _, target := range s.errs {
			if errors.Is(err, target) {
				return s.status
			}
		}
	}
	return http.StatusInternalServerError
}

// statusesOf are the statuses other than 500 of an invocation refused
// before its chunk ran, by the errors its refusal wraps, in this order.
var statusesOf = []struct {
	status int
	errs   []error
}{
	{http.StatusForbidden, []error{ErrJobPathNotAllowed}},
	{http.StatusBadRequest, []error{jobspec.ErrAmbiguousJSON, jobspec.ErrPayloadSyntax, jobspec.ErrPayloadNotObject,
		jobspec.ErrPayloadFields, jobspec.ErrChunkIndexRange, jobspec.ErrAttempt, jobspec.ErrFailAsError}},
}
