package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// The hedging job: hedgeChunks chunks at concurrency hedgeConcurrency, of
// which hedgeStraggler stalls on its first attempt.
const (
	hedgeChunks      = 40
	hedgeConcurrency = 4
	hedgeStraggler   = 17
)

// hedgeSample is what one run of the hedging job did.
type hedgeSample struct {
	wall, workers time.Duration // Summary.Wall and Summary.WorkerSum
	attempts      int           // attempts started (the started events)
	hedges, won   int           // Summary.Hedges and HedgesWon
}

// hedgeResult is the figures of the hedging bench: both modes' runs,
// paired (run i of each was taken back to back), and the ideal.
type hedgeResult struct {
	params       string        // the one line that says what was run
	hedge        fanout.Hedge  // the hedging of the hedged runs
	idealWall    time.Duration // the chunks' normal times added up, over the concurrency
	idealWorkers time.Duration // the chunks' normal times added up
	on, off      []hedgeSample
}

// chunkTime is how long chunk id takes normally: t and up to 9 % more
// (chunkTimeMax), by id, so that the finished chunks' p90 is not just
// their median.
func chunkTime(t time.Duration, id int) time.Duration {
	return t + t*time.Duration(id*7%10)/100
}

// chunkTimeMax is the longest chunkTime.
func chunkTimeMax(t time.Duration) time.Duration { return t + t*9/100 }

// measureHedge runs a hedgeChunks-chunk job of sleeps on the worker core
// in this process (fanout.NewLocal and fanout.Runner, as run --target
// local does) at concurrency hedgeConcurrency, one chunk of which stalls
// for o.hedgeStraggler on its first attempt, with hedging (DefaultHedge
// with the floor o.hedgeFloor) and without, o.hedgeRuns times each,
// taking turns at going first, and prints the table.
func measureHedge(ctx context.Context, out io.Writer, dir string, o options) error {
	switch {
	case o.hedgeRuns < 1:
		return fmt.Errorf("-hedge-runs is %d, want at least 1", o.hedgeRuns)
	case o.hedgeChunk <= 0 || o.hedgeStraggler <= o.hedgeChunk:
		return fmt.Errorf("-hedge-chunk %v, -hedge-straggler %v: want a chunk time above 0 and a longer stall", o.hedgeChunk, o.hedgeStraggler)
	case o.hedgeFloor < 0:
		return fmt.Errorf("-hedge-floor is %v, want at least 0", o.hedgeFloor)
	}
	dir = filepath.Join(dir, "hedge")
	marker := filepath.Join(dir, "marks", fmt.Sprint(hedgeStraggler)) // outside the workspace root
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return err
	}
	job, err := writeHedgeSpec(dir, o.hedgeChunk, o.hedgeStraggler, marker)
	if err != nil {
		return err
	}
	l, err := localJob(job, dir)
	if err != nil {
		return err
	}
	defer l.Close()
	h := fanout.DefaultHedge
	h.Floor = o.hedgeFloor
	res := hedgeResult{hedge: h}
	for id := range hedgeChunks {
		res.idealWorkers += chunkTime(o.hedgeChunk, id)
	}
	res.idealWall = res.idealWorkers / hedgeConcurrency
	res.params = fmt.Sprintf("Parameters: %d chunks of `sleep` %s to %s s (by chunk id) that each write their output; "+
		"chunk %d's first attempt stalls %s s instead; concurrency %d; --target local (fanout.NewLocal and fanout.Runner in one process); "+
		"hedging: factor %g, floor %s s, after %d (fanout.DefaultHedge, its %s s floor lowered for chunks of %s s); "+
		"worker-seconds is Summary.WorkerSum, every attempt's time added up; "+
		"medians of %d runs of each, taking turns at going first, range in brackets; ratios are of the runs taken back to back",
		hedgeChunks, secs(o.hedgeChunk), secs(chunkTimeMax(o.hedgeChunk)), hedgeStraggler, secs(o.hedgeStraggler),
		hedgeConcurrency, h.Factor, secs(h.Floor), h.After, secs(fanout.DefaultHedge.Floor), secs(o.hedgeChunk), o.hedgeRuns)
	// A run stalls for the straggler at most, after a few waves of chunks.
	limit := o.hedgeStraggler + hedgeChunks*chunkTimeMax(o.hedgeChunk) + time.Minute
	state := filepath.Join(dir, "state")
	for run := range o.hedgeRuns {
		modes := []*fanout.Hedge{nil, &h}
		if run%2 == 1 {
			modes = []*fanout.Hedge{&h, nil}
		}
		for _, m := range modes {
			s, err := hedgeRun(ctx, job, l, state, marker, m, limit)
			if err != nil {
				return fmt.Errorf("run %d, hedging %v: %w", run+1, m != nil, err)
			}
			if m == nil {
				res.off = append(res.off, s)
			} else {
				res.on = append(res.on, s)
			}
		}
	}
	fmt.Fprint(out, res.table())
	return nil
}

// writeHedgeSpec writes the job: every chunk sleeps its chunkTime and
// writes its outputFile, except that the straggler's first attempt (the
// marker does not exist yet, and it makes it) sleeps stall instead, as a
// worker that stalls does; a later attempt runs as the others do.
func writeHedgeSpec(dir string, t, stall time.Duration, marker string) (*fanout.Job, error) {
	if strings.ContainsAny(marker, `'"\$ `) {
		return nil, fmt.Errorf("the bench's folder %q needs quoting: set TMPDIR to a plain path", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	chunks := make([]map[string]any, hedgeChunks)
	for id := range chunks {
		work := fmt.Sprintf("sleep %s", secs(chunkTime(t, id)))
		if id == hedgeStraggler {
			work = fmt.Sprintf("if test -e %s; then %s; else touch %s; sleep %s; fi", marker, work, marker, secs(stall))
		}
		chunks[id] = map[string]any{"id": id, "outputFile": fmt.Sprintf("part_%02d.txt", id),
			"command": fmt.Sprintf(`sh -c '%s; echo chunk %d > "$HELIOS_OUTPUT_FILE"'`, work, id)}
	}
	data, err := json.Marshal(map[string]any{"id": "hedge", "chunks": chunks})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	return fanout.ParseJob(path, data)
}

// hedgeRun runs the whole job once with hedging h (nil: none), with a
// fresh state file and the straggler's marker removed, as run does with
// its defaults (retries, backoff, outputs required).
func hedgeRun(ctx context.Context, job *fanout.Job, l *fanout.LocalJob, state, marker string, h *fanout.Hedge, limit time.Duration) (hedgeSample, error) {
	for _, name := range []string{state, marker} {
		if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
			return hedgeSample{}, err
		}
	}
	st, err := fanout.OpenState(ctx, state, job, fanout.StateOptions{})
	if err != nil {
		return hedgeSample{}, err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var started atomic.Int64
	r := &fanout.Runner{Target: l.Target, JobPath: l.JobPath, Concurrency: hedgeConcurrency, Retries: 2,
		Backoff: fanout.DefaultBackoff, State: st, NeedOutputs: true, Hedge: h,
		Events: func(e fanout.Event) {
			if e.Kind == fanout.EventStarted {
				started.Add(1)
			}
		}}
	sum, err := r.Run(ctx, job)
	if err == nil && !sum.Done() {
		err = fmt.Errorf("%d of %d chunks failed, %d not run: %v", sum.Failed, sum.Chunks, sum.NotRun, sum.Failures[:min(len(sum.Failures), 1)])
	}
	if err != nil {
		return hedgeSample{}, err
	}
	if _, err := os.Stat(marker); err != nil {
		return hedgeSample{}, fmt.Errorf("the straggler did not stall: %w", err)
	}
	return hedgeSample{wall: sum.Wall, workers: sum.WorkerSum, attempts: int(started.Load()), hedges: sum.Hedges, won: sum.HedgesWon}, nil
}

// table is the markdown table of the result, and the line of parameters
// under it.
func (res hedgeResult) table() string {
	var b strings.Builder
	walls := func(s []hedgeSample) []float64 {
		return hedgeField(s, func(x hedgeSample) float64 { return x.wall.Seconds() })
	}
	workers := func(s []hedgeSample) []float64 {
		return hedgeField(s, func(x hedgeSample) float64 { return x.workers.Seconds() })
	}
	attempts := func(s []hedgeSample) []float64 {
		return hedgeField(s, func(x hedgeSample) float64 { return float64(x.attempts) })
	}
	hedges := func(s []hedgeSample) string {
		h := hedgeField(s, func(x hedgeSample) float64 { return float64(x.hedges) })
		w := hedgeField(s, func(x hedgeSample) float64 { return float64(x.won) })
		return fmt.Sprintf("%s (%s won)", spreadOf(h, "%.0f", ""), spreadOf(w, "%.0f", ""))
	}
	ratios := func(a, b []float64) []float64 {
		var xs []float64
		for i := range min(len(a), len(b)) {
			xs = append(xs, a[i]/b[i])
		}
		return xs
	}
	fmt.Fprintf(&b, "| %d chunks, one straggler, concurrency %d | wall | worker-seconds | attempts started | hedges |\n", hedgeChunks, hedgeConcurrency)
	fmt.Fprintln(&b, "|---|---|---|---|---|")
	fmt.Fprintf(&b, "| ideal: the chunks' times added up, over %d (no straggler) | %.2f s | %.1f s | %d | |\n",
		hedgeConcurrency, res.idealWall.Seconds(), res.idealWorkers.Seconds(), hedgeChunks)
	fmt.Fprintf(&b, "| without hedging | %s | %s | %s | %s |\n",
		spreadOf(walls(res.off), "%.2f", " s"), spreadOf(workers(res.off), "%.1f", " s"), spreadOf(attempts(res.off), "%.0f", ""), hedges(res.off))
	fmt.Fprintf(&b, "| with hedging (factor %g, floor %s s, after %d) | %s | %s | %s | %s |\n",
		res.hedge.Factor, secs(res.hedge.Floor), res.hedge.After,
		spreadOf(walls(res.on), "%.2f", " s"), spreadOf(workers(res.on), "%.1f", " s"), spreadOf(attempts(res.on), "%.0f", ""), hedges(res.on))
	fmt.Fprintf(&b, "| with / without hedging | %s | %s | | |\n",
		spreadOf(ratios(walls(res.on), walls(res.off)), "%.2f", ""), spreadOf(ratios(workers(res.on), workers(res.off)), "%.2f", ""))
	fmt.Fprintf(&b, "| with hedging / ideal | %s | %s | | |\n",
		spreadOf(ratios(walls(res.on), repeat(res.idealWall.Seconds(), len(res.on))), "%.2f", ""),
		spreadOf(ratios(workers(res.on), repeat(res.idealWorkers.Seconds(), len(res.on))), "%.2f", ""))
	fmt.Fprintf(&b, "\n%s.\n", res.params)
	return b.String()
}

// hedgeField is one figure of each sample.
func hedgeField(s []hedgeSample, f func(hedgeSample) float64) []float64 {
	var xs []float64
	for _, x := range s {
		xs = append(xs, f(x))
	}
	return xs
}

// spreadOf formats the median of xs and its unit, with their range
// beside it when they differ.
func spreadOf(xs []float64, format, unit string) string {
	if len(xs) == 0 {
		return "–"
	}
	m, lo, hi := fmt.Sprintf(format, medianOf(xs)), fmt.Sprintf(format, slices.Min(xs)), fmt.Sprintf(format, slices.Max(xs))
	if lo == hi {
		return m + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", m, unit, lo, hi)
}

// repeat is n copies of x.
func repeat(x float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

// secs formats d in seconds, as sleep takes them.
func secs(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".")
}
