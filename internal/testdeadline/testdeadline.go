package testdeadline

import (
	"context"
	"testing"
	"time"
)

// Fallback bounds a wait when the test binary has no deadline
// (go test -timeout 0) or the testing.TB cannot tell it (a benchmark).
const Fallback = 10 * time.Minute

// Margin limits: what is left before the binary's deadline for the test to
// report what it was waiting for and to run its cleanups.
const (
	minMargin = 5 * time.Second
	maxMargin = time.Minute
)

// Remaining returns how long tb may still wait for something: the time to
// the test binary's deadline less a margin (a tenth of that time, at least
// 5 s and at most a minute), or Fallback without a deadline. It is never
// less than a second, so that a test that is already late still gets to
// look once.
func Remaining(tb testing.TB) time.Duration {
	d, ok := tb.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return Fallback
	}
	deadline, ok := d.Deadline()
	if !ok {
		return Fallback
	}
	left := time.Until(deadline)
	return max(left-min(max(left/10, minMargin), maxMargin), time.Second)
}

// Context returns tb.Context() bounded by Remaining(tb). Like tb.Context(),
// it ends before tb's cleanups run; a cleanup that needs a context uses
// context.WithTimeout(context.Background(), Remaining(tb)).
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(tb.Context(), Remaining(tb))
	tb.Cleanup(cancel)
	return ctx
}

// After returns a channel that receives when Remaining(tb) has passed: the
// guard of a select that waits for something that must happen.
func After(tb testing.TB) <-chan time.Time {
	return time.After(Remaining(tb))
}
