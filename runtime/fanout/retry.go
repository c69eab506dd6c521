package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Backoff spaces the tries of a chunk: before try n+1 it waits a random
// time between 0 and min(Max, Base·2^(n-1)) ("full jitter"), so that
// chunks throttled together do not come back together.
type Backoff struct {
	Base, Max time.Duration
}

// DefaultBackoff starts at a second and waits at most half a minute.
var DefaultBackoff = Backoff{Base: time.Second, Max: 30 * time.Second}

// Delay is the wait before the try after try n (1 for the first).
func (b Backoff) Delay(n int) time.Duration {
	ceil := b.Max
	if n-1 < 32 && b.Base<<(n-1) > 0 && b.Base<<(n-1) < ceil {
		ceil = b.Base << (n - 1)
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// outcome is what a call's answer means for its chunk.
type outcome int

const (
	succeeded     outcome = iota
	transient             // the call failed for a reason that may pass
	commandFailed         // the chunk's command ran and failed (or was killed)
	permanent             // trying again cannot help
	stopped               // the run's own context ended
)

// throttled are the AWS error codes of a request refused for load, not
// for what it asked.
var throttled = map[string]bool{
	"TooManyRequestsException": true, "ThrottlingException": true, "Throttling": true,
	"ServiceException": true, "ServiceUnavailableException": true, "EC2ThrottledException": true,
	"RequestTimeout": true, "RequestTimeoutException": true, "SlowDown": true,
	"ResourceNotReadyException": true, "KMSThrottlingException": true,
}

// classify says what res and err, a call's result, mean, and why in a
// few words when it is not a success. Both are judged by type, never by
// text: a worker's answer by the kind of failure it gives
// (CallResult.ErrorKind, which the local target and both platforms give
// alike), after the statuses of a front end that is overloaded; a Go
// error by what it wraps ([classifyErr]). Only an answer with no kind
// this runner knows, from a worker that predates errorKind, is judged by
// its exit code and status and, last, by the few texts of
// [legacyFinalTexts] ([classifyLegacy]).
func classify(ctx context.Context, res *worker.CallResult, err error) (outcome, string) {
	switch {
	case err == nil && res.OK():
		return succeeded, ""
	case ctx.Err() != nil:
		return stopped, context.Cause(ctx).Error()
	case err != nil:
		return classifyErr(err)
	case overloaded(res.StatusCode):
		return transient, fmt.Sprintf("status %d: %s", res.StatusCode, res.Message)
	}
	if out, ok := kindOutcome(worker.Kind(res.ErrorKind), res.HasExitCode); ok {
		return out, reason(res, out)
	}
	return classifyLegacy(res)
}

// overloaded reports the statuses of a call refused for load, or cut off
// by a front end (Lambda's, Cloud Run's) before a worker answered it.
func overloaded(status int) bool {
	switch status {
	case 429, 502, 503, 504:
		return true
	}
	return false
}

// kindOutcome is what a failure of kind k means, ran telling whether the
// command ran (the answer has an exit code); ok is false for "" (an
// answer that gives no kind) and for a kind this runner does not know (a
// newer worker's).
func kindOutcome(k worker.Kind, ran bool) (outcome, bool) {
	switch k {
	case worker.KindFailed:
		return commandFailed, true
	case worker.KindTimeout:
		// The command took too long, which trying again changes only
		// when the command fails so now and then; the spec or the assets
		// taking too long, before it ran, may pass.
		if ran {
			return commandFailed, true
		}
		return transient, true
	case worker.KindCancelled, worker.KindStore, worker.KindWorker, worker.KindIdle:
		// An idle chunk was killed for hanging (a browser that stopped
		// answering, a stuck mount), which another try, perhaps on
		// another instance, may not meet.
		return transient, true
	default:
		if k.Final() {
			return permanent, true
		}
	}
	return 0, false
}

// reason words a worker's failure as an answer without a kind is worded:
// the command's message or exit code, the status of a refused call, or
// the message.
func reason(res *worker.CallResult, out outcome) string {
	switch {
	case out == commandFailed:
		return commandReason(res)
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return fmt.Sprintf("status %d: %s", res.StatusCode, res.Message)
	case res.Message == "":
		return fmt.Sprintf("status %d", res.StatusCode)
	}
	return res.Message
}

func commandReason(res *worker.CallResult) string {
	if res.Message != "" {
		return res.Message
	}
	return fmt.Sprintf("exit code %d", res.ExitCode)
}

// classifyLegacy judges an answer that gives no kind this runner knows:
// one from a worker that predates errorKind, or a kind newer than this
// runner. The command ran when the answer has an exit code; a 4xx is
// final (such a worker answers a jobPath outside its allowlist with 403,
// a payload or spec that could be read two ways with 400); a 5xx is final
// only when its message holds one of [legacyFinalTexts], and may pass
// otherwise (a store or the network failing, mostly).
func classifyLegacy(res *worker.CallResult) (outcome, string) {
	switch {
	case res.HasExitCode:
		return commandFailed, commandReason(res)
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return permanent, fmt.Sprintf("status %d: %s", res.StatusCode, res.Message)
	case hasLegacyFinalText(res.Message):
		return permanent, res.Message
	}
	return transient, res.Message
}

// legacyFinalTexts are the texts by which a worker that predates
// errorKind says, in a 5xx without an exit code, that its chunk could not
// run and will not run the next time either. They are that worker's wire
// messages, frozen with it, not the current worker's errors (which
// classify never reads as text: their kind decides); only classifyLegacy
// reads them. The 403 of a jobPath refused and the 400 of an ambiguous
// payload or spec need none: their status is final.
var legacyFinalTexts = []string{
	"not found in job spec",     // the contract's "Chunk with ID <n> not found in job spec"
	"Invalid JobSpec",           // the contract's "Invalid JobSpec: missing chunks array"
	"access denied",             // a store refused the worker's credentials
	"outside the workspace",     // an asset's key leaves the workspace
	"not a regular file",        // the spec is a folder or a device
	"larger than the limit",     // the spec or the assets over their limit
	"executable file not found", // the command's executable is not on PATH
}

func hasLegacyFinalText(m string) bool {
	for _, s := range legacyFinalTexts {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// classifyErr judges a call that did not answer: by what err wraps. An
// invoker's error says whether it is temporary, or gives an AWS error
// code; a dropped or refused connection, a cut answer or a deadline may
// pass; an error of the worker's own (a Target that runs it in this
// process and returns one) is judged by its kind, as an answer's
// errorKind is. Anything else is final.
func classifyErr(err error) (outcome, string) {
	var temp interface{ Temporary() bool }
	if errors.As(err, &temp) && !isNetError(err) {
		if temp.Temporary() {
			return transient, err.Error()
		}
		return permanent, err.Error()
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		if throttled[api.ErrorCode()] {
			return transient, err.Error()
		}
		return permanent, err.Error()
	}
	if isNetError(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded) {
		return transient, err.Error()
	}
	if k, ok := worker.LookupKind(err); ok {
		if out, ok := kindOutcome(k, false); ok {
			return out, err.Error()
		}
	}
	return permanent, err.Error()
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
