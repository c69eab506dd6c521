package fanout

import (
	"slices"
	"time"
)

// Kinds of [Event].
const (
	EventStarted  = "started"  // an attempt was sent
	EventFinished = "finished" // the chunk succeeded
	EventRetried  = "retried"  // an attempt failed; another follows after DelayMS
	EventFailed   = "failed"   // the chunk failed for good (in this run)
	EventSkipped  = "skipped"  // the state file says it is done
	EventKilled   = "killed"   // an attempt in flight was stopped: the run was interrupted twice
	EventRedo     = "redo"     // a chunk the state says is done is rendered again: its output did not hold up
	EventMerge    = "merge"    // the mergeCommand started (no ExitCode) or ended
	EventLost     = "lost"     // an attempt was cancelled: its rival in a hedged race finished first
)

// An Event is one step of one chunk, as [Runner.Events] receives it and
// helios-scaffold run --progress json prints it.
type Event struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"event"`
	Chunk      int64     `json:"chunk"`
	Attempt    int       `json:"attempt,omitempty"` // 1 for the first try
	DurationMS int64     `json:"durationMs,omitempty"`
	ExitCode   *int      `json:"exitCode,omitempty"`
	OutputURL  string    `json:"outputUrl,omitempty"`
	Bytes      int64     `json:"bytes,omitempty"`
	Reason     string    `json:"reason,omitempty"` // why it was retried or failed
	DelayMS    int64     `json:"delayMs,omitempty"`
	Stderr     string    `json:"stderr,omitempty"` // the last lines, when it failed
	// Hedge marks a backup attempt, started beside a straggler; a started
	// one says why in Reason.
	Hedge bool `json:"hedge,omitempty"`
	// SpentUSD is what the run's attempts have cost so far, and RestUSD
	// the estimate for the chunks not finished (absent before one has),
	// when the Runner has a Cost.
	SpentUSD float64 `json:"spentUsd,omitempty"`
	RestUSD  float64 `json:"restUsd,omitempty"`
}

// A Failure is a chunk that failed for good.
type Failure struct {
	Chunk    int64
	ExitCode *int   // nil when the command did not run or its answer had none
	Reason   string // the worker's message or the call's error
	Stderr   string // the last lines of its stderr
}

// Summary is what a run did.
type Summary struct {
	Chunks    int // in the spec
	OK        int // succeeded in this run
	Skipped   int // done in an earlier run
	Failed    int // failed for good in this run
	NotRun    int // never started, or left waiting for a retry, when the run stopped
	Retries   int // attempts after the first
	Stopped   bool
	Wall      time.Duration
	WorkerSum time.Duration // every attempt's duration, added up
	// ChunkTimes are the durations of the chunks that succeeded in this
	// run, from their last attempt.
	ChunkTimes  []time.Duration
	OutputBytes int64 // what the chunks of this run uploaded (or wrote)
	Failures    []Failure
	// Hedges are the backup attempts started for stragglers, HedgesWon
	// those that finished first, Lost the attempts cancelled because a
	// rival finished first.
	Hedges, HedgesWon, Lost int
	// SpentUSD is what every attempt cost (failed, lost and hedged ones
	// too), and EstimateUSD that and the estimate for the chunks not
	// finished: 0 without a Runner.Cost.
	SpentUSD, EstimateUSD float64
	// OverBudget, when above 0, is by how much the estimate passed
	// Runner.Budget, which stopped the run from starting chunks.
	OverBudget float64
}

// Percentile is the p-th percentile (0 to 100) of the chunk times, by the
// nearest-rank method; 0 when there are none.
func (s *Summary) Percentile(p float64) time.Duration {
	if len(s.ChunkTimes) == 0 {
		return 0
	}
	ts := slices.Clone(s.ChunkTimes)
	slices.Sort(ts)
	rank := int(p/100*float64(len(ts))+0.999999) - 1
	return ts[min(max(rank, 0), len(ts)-1)]
}

// Add counts a later run t, over chunks that this one counted as done
// and that were then rendered again, into s.
func (s *Summary) Add(t *Summary) {
	s.OK += t.OK
	s.Failed += t.Failed
	s.NotRun += t.NotRun
	s.Retries += t.Retries
	s.Stopped = s.Stopped || t.Stopped
	s.Wall += t.Wall
	s.WorkerSum += t.WorkerSum
	s.ChunkTimes = append(s.ChunkTimes, t.ChunkTimes...)
	s.OutputBytes += t.OutputBytes
	s.Failures = append(s.Failures, t.Failures...)
	s.Hedges += t.Hedges
	s.HedgesWon += t.HedgesWon
	s.Lost += t.Lost
	s.SpentUSD += t.SpentUSD
	s.EstimateUSD = s.SpentUSD // t ran only what s had counted as done
	s.OverBudget = max(s.OverBudget, t.OverBudget)
}

// Done reports whether every chunk of the spec has succeeded, in this run
// or an earlier one.
func (s *Summary) Done() bool { return s.OK+s.Skipped == s.Chunks }
