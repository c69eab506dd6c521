package fanout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A Target runs one chunk and answers as a worker does. The Callers of
// runtime/awslambda/lambdacaller and runtime/cloudrun/runcaller are
// Targets, and so is [Local]. An error from Call that has a
// Temporary() bool method (or an AWS ErrorCode() string of a throttling
// kind) says itself whether trying again may help; a network error may.
type Target interface {
	Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error)
}

// Runner calls a Target once per chunk of a job.
type Runner struct {
	Target Target
	// JobPath is what the workers are invoked with: the spec where they
	// can read it.
	JobPath string
	// Concurrency is how many chunks are in flight at once; below 1 is
	// the number of CPUs.
	Concurrency int
	// Retries is how many times a chunk is tried again after a failure
	// that may pass; RetryFailed counts a command that failed (exit code
	// not 0, or killed) as one.
	Retries     int
	RetryFailed bool
	Backoff     Backoff
	// State, when not nil, holds the chunks done in earlier runs, which
	// are skipped, and receives each chunk that succeeds.
	State *State
	// Events, when not nil, receives every chunk event, one at a time.
	Events func(Event)
	// Drain, when closed, stops the run from starting chunks (or their
	// retries); the chunks in flight go on until they end or ctx does.
	Drain <-chan struct{}
	// ChunkTimeout, when above 0, bounds each call: one that has not
	// answered by then is given up (and may be tried again, as a dropped
	// connection is).
	ChunkTimeout time.Duration
	// NeedOutputs makes an answer that names no uploaded output, for a
	// chunk with an outputFile, a failure: there would be nothing to
	// collect and merge.
	NeedOutputs bool
	// Logs, when not "", is a folder that receives each chunk's captured
	// stdout and stderr (chunk-ID.stdout, chunk-ID.stderr), from its
	// last attempt.
	Logs string
	// Hedge, when not nil, gives stragglers a backup attempt.
	Hedge *Hedge
	// Cost, when not nil, is what an attempt that took d costs, in USD:
	// the events and the Summary then carry the spend and an estimate.
	Cost func(d time.Duration) float64
	// Budget, when above 0 (and Cost is set), stops the run from starting
	// chunks, retries or backups once the estimate for the whole run
	// passes it: Summary.OverBudget then says by how much.
	Budget float64
	// Capacity, when above 0, is how many calls the Target takes at once
	// (a function's reserved concurrency): a straggler's backup starts
	// only while fewer attempts are in flight, so that it is not
	// throttled.
	Capacity int
}

// run is one Run's shared tally.
type run struct {
	*Runner
	mu      sync.Mutex
	sum     *Summary
	err     error // the state file failing
	slots   int   // chunks in flight at once
	todo    int   // chunks this run renders: not done before
	hedging int   // backups in flight
	flight  int   // attempts in flight
	// known is closed once enough chunks have finished for the hedging
	// bar (Hedge.After).
	known chan struct{}
}

// Run calls the Target for every chunk of job in spec order, at most
// Concurrency at a time, and returns what happened. It returns an error
// only when the state file could not be written; failed chunks are in
// the Summary. Cancelling ctx cancels the calls in flight too.
func (r *Runner) Run(ctx context.Context, job *Job) (*Summary, error) {
	start := time.Now()
	x := &run{Runner: r, sum: &Summary{Chunks: len(job.Spec.Chunks)}, known: make(chan struct{})}
	n := r.Concurrency
	if n < 1 {
		n = runtime.NumCPU()
	}
	n = min(n, max(1, len(job.Spec.Chunks))) // a goroutine a slot: no more than chunks
	x.slots = n
	for _, c := range job.Spec.Chunks {
		if r.State == nil {
			x.todo++
		} else if _, done := r.State.Done(c.ID); !done {
			x.todo++
		}
	}
	if r.Logs != "" {
		if err := os.MkdirAll(r.Logs, 0o755); err != nil {
			return x.sum, fmt.Errorf("creating the log folder: %w", err)
		}
	}
	todo := make(chan *jobspec.Chunk)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for c := range todo {
				if !x.stopping(ctx) { // it may have been handed over before the run stopped
					x.chunk(ctx, c)
				}
			}
		})
	}
	for i := range job.Spec.Chunks {
		c := &job.Spec.Chunks[i]
		if r.State != nil {
			if rec, ok := r.State.Done(c.ID); ok {
				x.skip(rec)
				continue
			}
		}
		if x.stopping(ctx) {
			break
		}
		select {
		case todo <- c:
		case <-r.Drain:
		case <-ctx.Done():
		}
	}
	close(todo)
	wg.Wait()
	s := x.sum
	s.Wall = time.Since(start)
	s.NotRun = s.Chunks - s.OK - s.Skipped - s.Failed
	s.Stopped = s.NotRun > 0
	if est, _ := x.estimate(); r.Budget > 0 && s.NotRun > 0 && est > r.Budget {
		s.OverBudget = est - r.Budget
	}
	s.EstimateUSD, _ = x.estimate()
	return s, x.err
}

// stopping reports whether the run must start nothing more.
func (x *run) stopping(ctx context.Context) bool {
	select {
	case <-x.Drain:
		return true
	case <-ctx.Done():
		return true
	default:
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err != nil || !x.affordable()
}

func (x *run) skip(rec Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sum.Skipped++
	x.emit(Event{Kind: EventSkipped, Chunk: rec.Chunk, OutputURL: rec.OutputURL, Bytes: rec.Bytes})
}

// emit sends e, with the spend so far, to Events; x.mu is held.
func (x *run) emit(e Event) {
	if x.Events != nil {
		e.Time = time.Now()
		x.costFields(&e)
		x.Events(e)
	}
}

// chunk runs c, trying again as the Runner says, and counts the outcome.
func (x *run) chunk(ctx context.Context, c *jobspec.Chunk) {
	attempt := 0
	for round := 1; ; round++ {
		t := x.race(ctx, c, &attempt)
		out, why := classify(ctx, t.res, t.err)
		if out == succeeded && x.NeedOutputs && c.OutputFile != "" && t.res.OutputURL == "" {
			out, why = permanent, fmt.Sprintf("the worker uploaded no output for %s, so there is nothing to collect: "+
				"give the spec an outputUrl (or pass --output-url), or set HELIOS_OUTPUT_URL on the worker", c.OutputFile)
		}
		logs := x.keepLogs(c, t.res)
		x.spend(t)
		switch out {
		case succeeded:
			x.succeed(c, t, attempt)
			return
		case stopped:
			x.event(Event{Kind: EventKilled, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(), Reason: why})
			return
		}
		retry := out == transient || out == commandFailed && x.RetryFailed
		if !retry || round > x.Retries {
			if logs != "" {
				why += " (its output is in " + logs + ")"
			}
			x.fail(c, t, why)
			return
		}
		delay := x.Backoff.Delay(round)
		x.event(Event{Kind: EventRetried, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(),
			ExitCode: exitCode(t.res), Reason: why, DelayMS: delay.Milliseconds()})
		if !x.wait(ctx, delay) || x.stopping(ctx) {
			return
		}
		x.mu.Lock()
		x.sum.Retries++
		x.mu.Unlock()
	}
}

// call runs attempt n of c, within ChunkTimeout. Attempts after the
// first say which they are, so that each puts its output under its own
// name.
func (x *run) call(ctx context.Context, c *jobspec.Chunk, n int) (*worker.CallResult, error) {
	req := jobspec.Request{JobPath: x.JobPath, ChunkIndex: c.ID}
	if n > 1 {
		req.Attempt = min(n, jobspec.MaxAttempt)
	}
	if x.ChunkTimeout <= 0 {
		return x.Target.Call(ctx, req)
	}
	cctx, cancel := context.WithTimeoutCause(ctx, x.ChunkTimeout, errChunkTimeout{x.ChunkTimeout})
	defer cancel()
	res, err := x.Target.Call(cctx, req)
	if cctx.Err() != nil && ctx.Err() == nil {
		return nil, context.Cause(cctx)
	}
	return res, err
}

// errChunkTimeout is a call that outlived --chunk-timeout.
type errChunkTimeout struct{ d time.Duration }

func (e errChunkTimeout) Error() string {
	return fmt.Sprintf("no answer within the chunk timeout (%v)", e.d)
}

// Temporary says that another try may answer in time.
func (e errChunkTimeout) Temporary() bool { return true }

// keepLogs writes res's captured streams into the log folder, and returns
// the stderr file's path ("" for none).
func (x *run) keepLogs(c *jobspec.Chunk, res *worker.CallResult) string {
	if x.Logs == "" || res == nil || res.Stdout == "" && res.Stderr == "" {
		return ""
	}
	base := filepath.Join(x.Logs, fmt.Sprintf("chunk-%d", c.ID))
	if os.WriteFile(base+".stdout", []byte(res.Stdout), 0o644) != nil ||
		os.WriteFile(base+".stderr", []byte(res.Stderr), 0o644) != nil {
		return ""
	}
	return base + ".stderr"
}

// wait sleeps d, and reports false when the run stops meanwhile.
func (x *run) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.Drain:
	case <-ctx.Done():
	}
	return false
}

func (x *run) event(e Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.emit(e)
}

func (x *run) succeed(c *jobspec.Chunk, t try, attempts int) {
	res := t.res
	var err error
	if p, ok := x.Target.(Placer); ok {
		err = p.Place(c, res, attempts)
	}
	if err == nil && x.State != nil {
		rec := Record{Chunk: c.ID, OutputURL: res.OutputURL, Bytes: res.OutputBytes, SHA256: res.OutputSHA256, Hedge: t.hedge}
		if t.n > 1 {
			rec.Attempt = t.n
		}
		err = x.State.Add(rec)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		x.err = err
		x.sum.Failed++
		x.sum.Failures = append(x.sum.Failures, Failure{Chunk: c.ID, Reason: err.Error()})
		return
	}
	x.sum.OK++
	x.sum.ChunkTimes = append(x.sum.ChunkTimes, t.took)
	if x.Hedge != nil && len(x.sum.ChunkTimes) == max(x.Hedge.After, 1) {
		close(x.known)
	}
	x.sum.OutputBytes += res.OutputBytes
	if t.hedge {
		x.sum.HedgesWon++
	}
	x.emit(Event{Kind: EventFinished, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(),
		ExitCode: exitCode(res), OutputURL: res.OutputURL, Bytes: res.OutputBytes})
}

func (x *run) fail(c *jobspec.Chunk, t try, why string) {
	f := Failure{Chunk: c.ID, ExitCode: exitCode(t.res), Reason: why}
	if t.res != nil {
		f.Stderr = lastLines(t.res.Stderr, stderrLines)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sum.Failed++
	x.sum.Failures = append(x.sum.Failures, f)
	x.emit(Event{Kind: EventFailed, Chunk: c.ID, Attempt: t.n, Hedge: t.hedge, DurationMS: t.took.Milliseconds(),
		ExitCode: f.ExitCode, Reason: why, Stderr: f.Stderr})
}

// stderrLines is how much of a failed chunk's stderr a failure shows;
// the log folder has all that the worker captured.
const stderrLines = 20

func exitCode(res *worker.CallResult) *int {
	if res == nil || !res.HasExitCode {
		return nil
	}
	code := res.ExitCode
	return &code
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	i := len(s)
	for range n {
		j := strings.LastIndexByte(s[:i], '\n')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
}
