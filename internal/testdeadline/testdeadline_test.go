package testdeadline_test

import (
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// fakeTB is a testing.TB whose deadline the test chooses.
type fakeTB struct {
	testing.TB
	deadline time.Time
	ok       bool
}

func (f fakeTB) Deadline() (time.Time, bool) { return f.deadline, f.ok }

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		name     string
		left     time.Duration
		ok       bool
		min, max time.Duration
	}{
		{"no deadline", 0, false, testdeadline.Fallback, testdeadline.Fallback},
		{"45 minutes: a minute's margin", 45 * time.Minute, true, 43*time.Minute + 58*time.Second, 44 * time.Minute},
		{"5 minutes: a tenth", 5 * time.Minute, true, 4*time.Minute + 28*time.Second, 4*time.Minute + 30*time.Second},
		{"20 seconds: at least 5 s", 20 * time.Second, true, 14 * time.Second, 15 * time.Second},
		{"past it: a second", -time.Minute, true, time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := fakeTB{TB: t, deadline: time.Now().Add(tc.left), ok: tc.ok}
			if got := testdeadline.Remaining(tb); got < tc.min || got > tc.max {
				t.Errorf("Remaining = %v, want between %v and %v", got, tc.min, tc.max)
			}
		})
	}
	// A testing.TB without Deadline (a benchmark's) gets the fallback.
	if got := testdeadline.Remaining(struct{ testing.TB }{t}); got != testdeadline.Fallback {
		t.Errorf("Remaining without Deadline = %v, want %v", got, testdeadline.Fallback)
	}
}

func TestContext(t *testing.T) {
	ctx := testdeadline.Context(t)
	deadline, ok := ctx.Deadline()
	if !ok {
		t.Fatal("Context has no deadline")
	}
	if want := time.Now().Add(testdeadline.Remaining(t)); deadline.After(want.Add(time.Second)) {
		t.Errorf("Context ends at %v, after Remaining's %v", deadline, want)
	}
	if testDeadline, ok := t.Deadline(); ok && !deadline.Before(testDeadline) {
		t.Errorf("Context ends at %v, not before the binary's deadline %v", deadline, testDeadline)
	}
	select {
	case <-ctx.Done():
		t.Fatal("Context already done")
	default:
	}
}
