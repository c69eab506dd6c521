package cli

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestInterrupts drives run's two stops with signals put straight on
// their channel, in each order the CLI can see them. In the CLI the parent
// context ends on the same first signal (main's signal.NotifyContext), and
// either may be seen first: that must still be one stop, not two.
func TestInterrupts(t *testing.T) {
	type event int
	const (
		parentEnds event = iota
		sigint
		sigterm
	)
	for _, tc := range []struct {
		name     string
		soft     bool
		events   []event
		drained  bool
		canceled bool
		code     int
	}{
		{"nothing", true, nil, false, false, 0},
		{"SIGINT while dispatching", true, []event{sigint}, true, false, 130},
		{"SIGTERM, then the parent", true, []event{sigterm, parentEnds}, true, false, 143},
		{"the parent, then SIGTERM", true, []event{parentEnds, sigterm}, true, false, 143},
		{"the parent alone", true, []event{parentEnds}, true, false, 130},
		{"two SIGTERMs", true, []event{parentEnds, sigterm, sigterm}, true, true, 143},
		{"SIGINT, then SIGTERM", true, []event{sigint, parentEnds, sigterm}, true, true, 130},
		{"SIGTERM outside dispatching", false, []event{sigterm}, false, true, 143},
		{"the parent outside dispatching", false, []event{parentEnds}, true, true, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, end := context.WithCancel(context.Background())
			defer end()
			it := watchInterrupts(parent)
			defer it.stop()
			it.setSoft(tc.soft)
			sent := 0
			for _, e := range tc.events {
				switch e {
				case parentEnds:
					end()
					waitUntil(t, func() bool { return isClosed(it.drain) })
					continue
				case sigint:
					it.ch <- os.Interrupt
				case sigterm:
					it.ch <- syscall.SIGTERM
				}
				sent++
				waitUntil(t, func() bool {
					it.mu.Lock()
					defer it.mu.Unlock()
					return it.signals == sent
				})
			}
			if got := isClosed(it.drain); got != tc.drained {
				t.Errorf("drained = %v, want %v", got, tc.drained)
			}
			if got := it.ctx.Err() != nil; got != tc.canceled {
				t.Errorf("canceled = %v, want %v", got, tc.canceled)
			}
			if got := it.exitCode(); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
		})
	}
}

// waitUntil waits for the watcher to reach the state cond looks for.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the watcher never got there")
		}
		time.Sleep(time.Millisecond)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
