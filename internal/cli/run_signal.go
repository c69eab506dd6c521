package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts turns SIGINT and SIGTERM into run's two stops. While chunks
// are dispatched (soft), the first signal closes drain: no chunk starts,
// those in flight finish and are recorded. Any other signal, or the
// first outside that phase (upload, collect, merge), cancels ctx, which
// stops what is in flight. The parent context ending drains too.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	drain  chan struct{}
	ch     chan os.Signal
	done   chan struct{}

	mu      sync.Mutex
	sig     os.Signal // the first received
	signals int       // how many were received
	soft    bool
	drained bool
	drainFn func() // told at once when a signal drains the run
}

func watchInterrupts(parent context.Context) *interrupts {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	it := &interrupts{ctx: ctx, cancel: cancel, drain: make(chan struct{}),
		ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(it.ch, os.Interrupt, syscall.SIGTERM)
	go it.watch(parent.Done())
	return it
}

func (it *interrupts) watch(parentDone <-chan struct{}) {
	for {
		select {
		case s := <-it.ch:
			it.mu.Lock()
			if it.sig == nil {
				it.sig = s
			}
			it.signals++
			switch {
			case it.soft && it.signals == 1:
				// The parent context may have drained already: in the CLI
				// it ends on this same signal, and may be seen first.
				if !it.drained {
					it.drained = true
					close(it.drain)
				}
				if it.drainFn != nil {
					go it.drainFn() // it may take the progress's lock: not under it.mu
				}
			default:
				it.cancel()
			}
			it.mu.Unlock()
		case <-parentDone:
			parentDone = nil
			it.mu.Lock()
			if !it.drained {
				it.drained = true
				close(it.drain)
			}
			if !it.soft {
				it.cancel()
			}
			it.mu.Unlock()
		case <-it.done:
			return
		}
	}
}

// onDrain sets fn, which is called once a signal has drained the run:
// what it says is the user's answer to Ctrl-C.
func (it *interrupts) onDrain(fn func()) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.drainFn = fn
}

// setSoft says whether chunks are being dispatched.
func (it *interrupts) setSoft(soft bool) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.soft = soft
}

// exitCode is 128 plus the first signal's number (130 for SIGINT, 143
// for SIGTERM), 130 when only the parent context ended, and 0 when
// nothing stopped the run.
func (it *interrupts) exitCode() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	if s, ok := it.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	if it.drained || it.ctx.Err() != nil {
		return 128 + int(syscall.SIGINT)
	}
	return 0
}

func (it *interrupts) stop() {
	signal.Stop(it.ch)
	close(it.done)
	it.cancel()
}
