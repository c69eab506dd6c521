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
// few words when it is not a success. A worker's answer is judged by
// the kind of failure it gives (CallResult.ErrorKind); an answer without
// one, from a worker that predates it, by its exit code, status and, as
// a last resort, its message.
func classify(ctx context.Context, res *worker.CallResult, err error) (outcome, string) {
	switch {
	case err == nil && res.OK():
		return succeeded, ""
	case ctx.Err() != nil:
		return stopped, context.Cause(ctx).Error()
	case err != nil:
		return classifyErr(err)
	}
	switch {
	case res.StatusCode == 429 || res.StatusCode == 502 || res.StatusCode == 503 || res.StatusCode == 504:
		return transient, fmt.Sprintf("status %d: %s", res.StatusCode, res.Message)
	}
	if out, ok := kindOutcome(res); ok {
		return out, reason(res, out)
	}
	switch {
	case res.HasExitCode:
		return commandFailed, commandReason(res)
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return permanent, fmt.Sprintf("status %d: %s", res.StatusCode, res.Message)
	case isPermanentMessage(res.Message):
		return permanent, res.Message
	}
	// The chunk could not run: a store or the network failing, mostly.
	return transient, res.Message
}

// kindOutcome is what the kind of failure that the worker gave means;
// ok is false when the answer gives none, or one this runner does not
// know (a newer worker's).
func kindOutcome(res *worker.CallResult) (outcome, bool) {
	switch k := worker.Kind(res.ErrorKind); k {
	case worker.KindFailed:
		return commandFailed, true
	case worker.KindTimeout:
		// The command took too long, which trying again changes only
		// when the command fails so now and then; the spec or the assets
		// taking too long, before it ran, may pass.
		if res.HasExitCode {
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

// isPermanentMessage reports the reasons that the same call will give
// again, as a worker that gives no errorKind words them: the chunk is not
// in the spec, the spec is not valid, access is denied, a path leaves the
// workspace or is not allowed, the command's executable is not found. It
// is the fallback for such a worker's answers only: a newer worker's kind
// decides.
func isPermanentMessage(m string) bool {
	for _, s := range []string{
		"not found in job spec", "Invalid JobSpec", "access denied", "outside the workspace",
		"not allowed", "ambiguous JSON", "not a regular file", "larger than the limit",
		"executable file not found",
	} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

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
	return permanent, err.Error()
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
