package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// progress shows a run's chunk events: a live bar on a terminal, JSON
// lines, or only the retries and failures.
type progress struct {
	mu      sync.Mutex    // the Runner's events, the signal watcher's line
	json    *json.Encoder // --progress json
	bar     *progressbar.ProgressBar
	log     io.Writer // where retries and failures are told
	counts  map[string]int
	flight  int
	started time.Time
	// spent and rest are the cost so far and the estimate for the rest,
	// from the last event that carried them.
	spent, rest float64
}

// newProgress picks the display for mode: auto is a bar when stderr is a
// terminal, else JSON lines on stdout.
func newProgress(mode string, stdout, stderr io.Writer, total int) *progress {
	p := &progress{log: stderr, counts: map[string]int{}, started: time.Now()}
	if mode == "auto" {
		mode = "json"
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "json":
		p.json = json.NewEncoder(stdout)
	case "bar":
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("chunks"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(), progressbar.OptionSetRenderBlankState(true))
	}
	return p
}

// line tells something outside the chunk events: on stderr, above the bar.
func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lineLocked(format, args...)
}

func (p *progress) lineLocked(format string, args ...any) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.log, format+"\n", args...)
}

// inFlight is how many chunks have been sent and not answered.
func (p *progress) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flight
}

// redo tells that b's chunk, done before, is rendered again.
func (p *progress) redo(b fanout.BadOutput) {
	p.event(fanout.Event{Time: time.Now(), Kind: fanout.EventRedo, Chunk: b.Chunk, Reason: b.Why})
}

// merge tells that the merge started (code nil) or ended.
func (p *progress) merge(code *int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json != nil {
		p.json.Encode(struct {
			Time     time.Time `json:"time"`
			Kind     string    `json:"event"`
			ExitCode *int      `json:"exitCode,omitempty"` // nil when it starts
		}{time.Now(), fanout.EventMerge, code})
	}
}

// event shows e; the Runner calls it one event at a time.
func (p *progress) event(e fanout.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[e.Kind]++
	switch e.Kind {
	case fanout.EventStarted:
		p.flight++
	case fanout.EventRetried, fanout.EventFinished, fanout.EventFailed, fanout.EventKilled, fanout.EventLost:
		p.flight--
	}
	if e.SpentUSD > 0 {
		p.spent, p.rest = e.SpentUSD, e.RestUSD
	}
	if p.json != nil {
		p.json.Encode(e)
		return
	}
	switch e.Kind {
	case fanout.EventStarted:
		if e.Hedge {
			p.lineLocked("chunk %d straggles: %s; trying it again beside itself (attempt %d)", e.Chunk, e.Reason, e.Attempt)
		}
	case fanout.EventRetried:
		p.lineLocked("chunk %d: try %d failed (%s); trying again in %v", e.Chunk, e.Attempt, e.Reason, time.Duration(e.DelayMS)*time.Millisecond)
	case fanout.EventFailed:
		p.lineLocked("chunk %d failed: %s%s", e.Chunk, e.Reason, indent(e.Stderr))
	case fanout.EventRedo:
		p.lineLocked("chunk %d is rendered again: %s", e.Chunk, e.Reason)
	}
	if p.bar == nil {
		return
	}
	switch e.Kind {
	case fanout.EventFinished, fanout.EventFailed:
		p.bar.Add(1)
	case fanout.EventSkipped:
		// Done before: out of the bar's count, so that its rate and ETA
		// are those of the chunks this run renders.
		p.bar.ChangeMax(p.bar.GetMax() - 1)
	case fanout.EventRedo:
		p.bar.ChangeMax(p.bar.GetMax() + 1)
	}
	desc := fmt.Sprintf("ok %d · failed %d · in flight %d", p.counts[fanout.EventFinished]+p.counts[fanout.EventSkipped]-p.counts[fanout.EventRedo],
		p.counts[fanout.EventFailed], p.flight)
	if p.spent > 0 {
		desc += fmt.Sprintf(" · %s so far, ~%s more", usd(p.spent), usd(p.rest))
	}
	p.bar.Describe(desc)
}

// finish ends the bar; lines after it are printed as they come.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.log)
		p.bar = nil
	}
}

// indent is stderr's last lines, indented below a message.
func indent(stderr string) string {
	if stderr == "" {
		return ""
	}
	return "\n    " + strings.ReplaceAll(stderr, "\n", "\n    ")
}

// runTotals are the figures of a whole run for its summary.
type runTotals struct {
	sum               *fanout.Summary
	uploaded, fetched int64
	wall              time.Duration
	start             time.Time
}

// summary prints the run's figures: as a JSON line in JSON mode, else as
// text on w.
func (p *progress) summary(w io.Writer, t runTotals, prices string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := t.sum
	if p.json != nil {
		p.json.Encode(map[string]any{
			"time": time.Now(), "event": "summary", "chunks": s.Chunks, "ok": s.OK, "skipped": s.Skipped,
			"failed": s.Failed, "notRun": s.NotRun, "retries": s.Retries, "wallMs": t.wall.Milliseconds(),
			"chunkP50Ms": s.Percentile(50).Milliseconds(), "chunkP95Ms": s.Percentile(95).Milliseconds(),
			"chunkMaxMs": s.Percentile(100).Milliseconds(), "workerMs": s.WorkerSum.Milliseconds(),
			"uploadedBytes": t.uploaded, "downloadedBytes": t.fetched,
			"hedges": s.Hedges, "hedgesWon": s.HedgesWon, "lost": s.Lost,
			"spentUsd": s.SpentUSD, "estimateUsd": s.EstimateUSD, "prices": prices,
		})
		return
	}
	fmt.Fprintf(w, "chunks: %d ok", s.OK)
	if s.Skipped > 0 {
		fmt.Fprintf(w, " (and %d done before)", s.Skipped)
	}
	fmt.Fprintf(w, ", %d failed", s.Failed)
	if s.NotRun > 0 {
		fmt.Fprintf(w, ", %d not run", s.NotRun)
	}
	fmt.Fprintf(w, " of %d; %d retries", s.Chunks, s.Retries)
	if s.Hedges > 0 {
		fmt.Fprintf(w, ", %d hedged (%d won)", s.Hedges, s.HedgesWon)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "time: %v wall, chunks p50 %v, p95 %v, max %v, %v of worker time in all\n",
		round(t.wall), round(s.Percentile(50)), round(s.Percentile(95)), round(s.Percentile(100)), round(s.WorkerSum))
	fmt.Fprintf(w, "bytes: %s uploaded, %s downloaded\n", sizeOf(t.uploaded), sizeOf(t.fetched))
	if prices != "" {
		fmt.Fprintf(w, "cost: %s, every attempt counted (%s)", usd(s.SpentUSD), prices)
		if s.Lost > 0 && strings.HasPrefix(prices, "Lambda") {
			fmt.Fprintf(w, ", at least: %d lost attempts run on in Lambda until they end, billed", s.Lost)
		}
		if rest := s.EstimateUSD - s.SpentUSD; rest > 0 {
			fmt.Fprintf(w, "; about %s more for the chunks not done", usd(rest))
		}
		fmt.Fprintln(w)
	}
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// sizeOf is n bytes for people: "0 B", "12.3 kB", "4.0 MB".
func sizeOf(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
