package report

import (
	"slices"
	"time"
)

// page is what the template shows: every figure already formatted, so the
// template only places text.
type page struct {
	Title, Target, Message string
	Outcome, OutcomeClass  string
	Started, Ended, Wall   string
	Counts                 []count
	Timeline               *timeline // nil when nothing ran
	Stats                  stats
	Slowest                []slowRow
	Failures               []failRow
}

// count is one figure of the header.
type count struct {
	ID, Label string
	N         int
}

// run is an attempt as drawn: its end resolved, its lane assigned.
type run struct {
	Attempt
	end  time.Time // End, or Data.Ended for an attempt still in flight
	lane int
}

func (r run) duration() time.Duration { return r.end.Sub(r.Start) }

// badgeClasses are the CSS classes of the run's outcomes; any other
// outcome gets b-other.
var badgeClasses = map[string]string{
	"done": "b-done", "failed": "b-failed", "budget": "b-budget", "interrupted": "b-interrupted",
}

func newPage(d Data) page {
	runs := resolve(d)
	p := page{
		Title:        d.Title,
		Target:       d.Target,
		Message:      truncate(d.Message, maxMessage),
		Outcome:      d.Outcome,
		OutcomeClass: "b-other",
		Started:      timestamp(d.Started),
		Ended:        timestamp(d.Ended),
		Wall:         "—",
		Counts:       counts(d, runs),
		Timeline:     newTimeline(d, runs),
		Stats:        newStats(d, runs),
		Slowest:      slowest(runs, maxSlowest),
		Failures:     failures(runs),
	}
	if c, ok := badgeClasses[d.Outcome]; ok {
		p.OutcomeClass = c
	}
	if p.Title == "" {
		p.Title = "(unnamed job)"
	}
	if p.Outcome == "" {
		p.Outcome = "unknown"
	}
	if !d.Started.IsZero() && !d.Ended.IsZero() && !d.Ended.Before(d.Started) {
		p.Wall = wall(d.Ended.Sub(d.Started))
	}
	return p
}

// resolve returns d's attempts sorted by start (then chunk, attempt), each
// with its end resolved: an attempt without an end, or with one before its
// start, is still in flight and ends at d.Ended (or at its start, when
// d.Ended is not after it). An attempt without a start starts at
// d.Started. The lanes are assigned too.
func resolve(d Data) []run {
	runs := make([]run, len(d.Attempts))
	for i, a := range d.Attempts {
		if a.Start.IsZero() {
			a.Start = d.Started
		}
		end := a.End
		if end.IsZero() || end.Before(a.Start) {
			end = a.Start
			if d.Ended.After(a.Start) {
				end = d.Ended
			}
		}
		runs[i] = run{Attempt: a, end: end}
	}
	slices.SortStableFunc(runs, func(a, b run) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if a.Chunk != b.Chunk {
			return cmpInt(a.Chunk, b.Chunk)
		}
		return cmpInt(a.Attempt.Attempt, b.Attempt.Attempt)
	})
	spans := make([]span, len(runs))
	for i, r := range runs {
		spans[i] = span{r.Start, r.end}
	}
	lanes, _ := assignLanes(spans)
	for i := range runs {
		runs[i].lane = lanes[i]
	}
	return runs
}

func cmpInt[T int | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// counts are the header's figures. ok and failed count chunks (a chunk
// with an ok attempt is ok, whatever else it did); the others count
// attempts. killed and running appear only when some attempt was.
func counts(d Data, runs []run) []count {
	okChunks, failedChunks := map[int64]bool{}, map[int64]bool{}
	by := map[string]int{}
	hedges := 0
	for _, r := range runs {
		by[r.Outcome]++
		if r.Hedge {
			hedges++
		}
		switch r.Outcome {
		case OutcomeOK:
			okChunks[r.Chunk] = true
		case OutcomeFailed:
			failedChunks[r.Chunk] = true
		}
	}
	for c := range okChunks {
		delete(failedChunks, c)
	}
	cs := []count{
		{"n-chunks", "chunks", d.Chunks},
		{"n-ok", "ok", len(okChunks)},
		{"n-failed", "failed", len(failedChunks)},
		{"n-retried", "retried attempts", by[OutcomeRetried]},
		{"n-hedges", "hedges", hedges},
		{"n-lost", "lost", by[OutcomeLost]},
		{"n-skipped", "skipped", d.Skipped},
		{"n-attempts", "attempts", len(runs)},
	}
	for _, o := range []string{OutcomeKilled, OutcomeRunning} {
		if by[o] > 0 {
			cs = append(cs, count{"n-" + o, o, by[o]})
		}
	}
	if left := d.Chunks - d.Skipped - len(okChunks); left > 0 {
		cs = append(cs, count{"n-not-done", "not done", left})
	}
	return cs
}
