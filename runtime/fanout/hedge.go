package fanout

import (
	"context"
	"fmt"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Hedge says when a straggler gets a backup attempt: once After chunks
// have finished in this run, an attempt running longer than Factor
// times the p90 of their times, and at least Floor, is issued again
// beside it. The first of the two to succeed wins; the other is
// cancelled (a local chunk is killed; a remote call is abandoned, and
// its answer ignored). Each attempt after a chunk's first puts its
// output under its own name ([jobspec.AttemptName]), and only the
// winner's is recorded, so a late loser never overwrites it.
type Hedge struct {
	Factor float64
	Floor  time.Duration
	After  int
}

// DefaultHedge hedges an attempt past three times the p90, and never
// one younger than 30 s or before 5 chunks have finished: MapReduce's
// backup tasks and gg's re-issue past a multiple of the expected time.
var DefaultHedge = Hedge{Factor: 3, Floor: 30 * time.Second, After: 5}

// try is one attempt's result.
type try struct {
	n     int // its attempt number
	hedge bool
	res   *worker.CallResult
	err   error
	took  time.Duration
}

// race runs the next attempt of c and, when it straggles, a backup
// beside it. It returns the first attempt to succeed, or, when every
// attempt failed, the last to end; failures of an attempt while its
// rival still runs are told as retried, and a rival that lost is
// cancelled, waited for and told as lost. *attempt counts the attempts
// started.
func (x *run) race(ctx context.Context, c *jobspec.Chunk, attempt *int) try {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan try, 2)
	launch := func(hedge bool, why string) {
		*attempt++
		n := *attempt
		x.mu.Lock()
		x.flight++
		x.emit(Event{Kind: EventStarted, Chunk: c.ID, Attempt: n, Hedge: hedge, Reason: why})
		x.mu.Unlock()
		go func() {
			t0 := time.Now()
			res, err := x.call(rctx, c, n)
			x.mu.Lock()
			x.flight--
			x.mu.Unlock()
			done <- try{n: n, hedge: hedge, res: res, err: err, took: time.Since(t0)}
		}()
	}
	start := time.Now()
	launch(false, "")
	running, hedged := 1, false
	timer := time.NewTimer(x.nextHedgeLook(start))
	defer timer.Stop()
	known := x.known // closed when the bar becomes known
	var last try
	for running > 0 {
		select {
		case <-known:
			known = nil
			timer.Reset(x.nextHedgeLook(start))
		case t := <-done:
			running--
			if out, _ := classify(ctx, t.res, t.err); out == succeeded || out == stopped || running == 0 {
				if running > 0 {
					cancel()
					x.lose(c, <-done, out == stopped)
				}
				return t
			}
			last = t
			x.attemptFailed(ctx, c, t)
		case <-timer.C:
			if hedged {
				continue
			}
			if why, ok := x.shouldHedge(ctx, time.Since(start)); ok {
				hedged = true
				running++
				launch(true, why)
				continue
			}
			timer.Reset(x.nextHedgeLook(start))
		}
	}
	return last
}

// nextHedgeLook is how long until an attempt started at start should be
// looked at again: when it passes the bar. With hedging off, or while
// the bar is not known (x.known is closed when it becomes so), never (a
// long time).
func (x *run) nextHedgeLook(start time.Time) time.Duration {
	bar, ok := x.hedgeBar()
	if x.Hedge == nil || !ok {
		return 24 * time.Hour
	}
	return max(time.Until(start.Add(bar)), 10*time.Millisecond)
}

// hedgeBar is the age past which an attempt is a straggler, and false
// while too few chunks have finished to tell.
func (x *run) hedgeBar() (time.Duration, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	h := x.Hedge
	if h == nil || len(x.sum.ChunkTimes) < max(h.After, 1) {
		return 0, false
	}
	p90 := x.sum.Percentile(90)
	return max(time.Duration(h.Factor*float64(p90)), h.Floor), true
}

// shouldHedge reports whether an attempt of age may get a backup now,
// and why: it is past the bar, fewer than the cap of backups run, the
// Target has room for another call, and the run may start attempts (not
// draining, within its budget).
func (x *run) shouldHedge(ctx context.Context, age time.Duration) (string, bool) {
	bar, ok := x.hedgeBar()
	if !ok || age < bar || x.stopping(ctx) {
		return "", false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.hedging >= x.maxHedging() || x.Capacity > 0 && x.flight >= x.Capacity || !x.affordable() {
		return "", false
	}
	x.hedging++
	x.sum.Hedges++
	p90 := x.sum.Percentile(90)
	return fmt.Sprintf("running %v, past %v (the larger of the floor, %v, and %g× the p90 of %d finished chunks, %v)",
		age.Round(time.Millisecond), bar.Round(time.Millisecond), x.Hedge.Floor, x.Hedge.Factor,
		len(x.sum.ChunkTimes), p90.Round(time.Millisecond)), true
}

// maxHedging caps the backups in flight at a quarter of the slots (at
// least one): hedging is for the few stragglers, not a slow job.
func (x *run) maxHedging() int { return max(1, x.slots/4) }

// attemptFailed tells that an attempt failed while its rival runs on.
func (x *run) attemptFailed(ctx context.Context, c *jobspec.Chunk, t try) {
	_, why := classify(ctx, t.res, t.err)
	x.spend(t)
	x.event(Event{Kind: EventRetried, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(),
		ExitCode: exitCode(t.res), Reason: why + "; its rival attempt goes on"})
}

// lose tells that t, the slower of a race, was cancelled: it lost, or,
// when the run was stopped, it was killed.
func (x *run) lose(c *jobspec.Chunk, t try, stopped bool) {
	x.spend(t)
	x.mu.Lock()
	defer x.mu.Unlock()
	e := Event{Kind: EventLost, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(),
		Reason: "another attempt finished first"}
	if stopped {
		e.Kind, e.Reason = EventKilled, "the run was stopped"
	} else {
		x.sum.Lost++
	}
	x.emit(e)
}

// spend counts what attempt t cost, and ends its hedge.
func (x *run) spend(t try) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sum.WorkerSum += t.took
	if x.Cost != nil {
		x.sum.SpentUSD += x.Cost(t.took)
	}
	if t.hedge {
		x.hedging--
	}
}

// affordable reports whether the run's estimate is within Budget: the
// spend so far and, for each chunk not finished, what a finished chunk
// cost on average (failed and hedged attempts included); before a chunk
// has finished, the spend alone. x.mu is held.
func (x *run) affordable() bool {
	if x.Budget <= 0 {
		return true
	}
	est, _ := x.estimate() // the spend alone, before a chunk finished
	return est <= x.Budget
}

// estimate is the cost of the whole run: spent, and the rest at the mean
// cost of a chunk finished in this run; false before one has. x.mu is
// held.
func (x *run) estimate() (float64, bool) {
	ended := x.sum.OK + x.sum.Failed
	if ended == 0 || x.Cost == nil {
		return x.sum.SpentUSD, false
	}
	rest := x.todo - ended
	return x.sum.SpentUSD + float64(rest)*x.sum.SpentUSD/float64(ended), true
}

// costFields puts the spend and the estimate for the rest into e. x.mu
// is held.
func (x *run) costFields(e *Event) {
	if x.Cost == nil {
		return
	}
	e.SpentUSD = x.sum.SpentUSD
	if est, ok := x.estimate(); ok {
		e.RestUSD = max(est-x.sum.SpentUSD, 0)
	}
}
