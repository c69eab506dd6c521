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
// few words when it is not a success.
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

func commandReason(res *worker.CallResult) string {
	if res.Message != "" {
		return res.Message
	}
	return fmt.Sprintf("exit code %d", res.ExitCode)
}

// isPermanentMessage reports the worker's reasons that the same call
// will give again: the chunk is not in the spec, the spec is not valid,
// access is denied, a path leaves the workspace or is not allowed.
func isPermanentMessage(m string) bool {
	for _, s := range []string{
		"not found in job spec", "Invalid JobSpec", "access denied", "outside the workspace",
		"not allowed", "ambiguous JSON", "not a regular file", "larger than the limit",
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
