package report

import (
	"math"
	"slices"
	"strconv"
	"time"
)

const (
	maxSlowest = 10  // rows of the slowest frame ranges
	maxReason  = 300 // runes of a reason in the failures table
	maxMessage = 2000
)

// stats are the page's figures on durations, bytes and cost.
type stats struct {
	OK                           int // successful attempts, whose durations make the percentiles
	P50, P95, Max                string
	WorkerTime                   string // all attempts' durations added up
	Uploaded, Downloaded, Output amount
	Cost, Estimate, PriceNote    string
}

// amount is a number of bytes in binary units, and exactly.
type amount struct {
	Human string
	Exact int64
}

func newStats(d Data, runs []run) stats {
	var ok []time.Duration
	var worker time.Duration
	var output int64
	for _, r := range runs {
		worker += r.duration()
		if r.Outcome == OutcomeOK {
			ok = append(ok, r.duration())
			output += r.Bytes
		}
	}
	slices.Sort(ok)
	s := stats{
		OK: len(ok), P50: "—", P95: "—", Max: "—",
		WorkerTime: seconds(worker),
		Uploaded:   amount{binaryBytes(d.UploadedBytes), d.UploadedBytes},
		Downloaded: amount{binaryBytes(d.DownloadedBytes), d.DownloadedBytes},
		Output:     amount{binaryBytes(output), output},
		Cost:       usd(d.CostUSD),
		Estimate:   "none",
		PriceNote:  d.PriceNote,
	}
	if len(ok) > 0 {
		s.P50, s.P95, s.Max = seconds(percentile(ok, 50)), seconds(percentile(ok, 95)), seconds(ok[len(ok)-1])
	}
	if d.EstimateUSD != 0 {
		s.Estimate = usd(d.EstimateUSD)
	}
	return s
}

// percentile returns the nearest-rank p-th percentile of sorted (ascending):
// the least value that at least p percent of the values do not exceed. It
// returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[clamp(rank, 1, len(sorted))-1]
}

// slowRow is a row of the slowest frame ranges.
type slowRow struct {
	Chunk                        int64
	Attempt                      int
	Frames, Duration, MsPerFrame string
}

// slowest returns the n successful attempts that took longest per frame,
// slowest first (ties by chunk, then attempt). Attempts without frames
// are left out.
func slowest(runs []run, n int) []slowRow {
	type timed struct {
		r     run
		perMs float64
	}
	var ts []timed
	for _, r := range runs {
		if r.Outcome == OutcomeOK && r.FrameCount > 0 {
			ts = append(ts, timed{r, float64(r.duration()) / float64(time.Millisecond) / float64(r.FrameCount)})
		}
	}
	slices.SortStableFunc(ts, func(a, b timed) int {
		switch {
		case a.perMs > b.perMs:
			return -1
		case a.perMs < b.perMs:
			return 1
		case a.r.Chunk != b.r.Chunk:
			return cmpInt(a.r.Chunk, b.r.Chunk)
		}
		return cmpInt(a.r.Attempt.Attempt, b.r.Attempt.Attempt)
	})
	rows := make([]slowRow, 0, min(n, len(ts)))
	for _, t := range ts[:min(n, len(ts))] {
		rows = append(rows, slowRow{
			Chunk: t.r.Chunk, Attempt: t.r.Attempt.Attempt,
			Frames:     frameRange(t.r.StartFrame, t.r.FrameCount),
			Duration:   seconds(t.r.duration()),
			MsPerFrame: strconv.FormatFloat(t.perMs, 'f', 1, 64),
		})
	}
	return rows
}

// failRow is a row of the failures table.
type failRow struct {
	Chunk           int64
	Attempt         int
	Outcome, Reason string
	Hedge           bool
}

// failures lists the attempts that failed, were retried or were killed,
// by start.
func failures(runs []run) []failRow {
	var rows []failRow
	for _, r := range runs {
		switch r.Outcome {
		case OutcomeFailed, OutcomeRetried, OutcomeKilled:
			reason := truncate(r.Reason, maxReason)
			if reason == "" {
				reason = "(no reason given)"
			}
			rows = append(rows, failRow{r.Chunk, r.Attempt.Attempt, r.Outcome, reason, r.Hedge})
		}
	}
	return rows
}
