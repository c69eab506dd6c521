package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"
)

// Outcomes of an Attempt.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"  // failed for good
	OutcomeRetried = "retried" // failed, tried again
	OutcomeLost    = "lost"    // a hedged race's slower attempt, cancelled
	OutcomeKilled  = "killed"
	OutcomeRunning = "running" // still in flight at an interrupt
)

// Attempt is one run of one chunk on one worker.
type Attempt struct {
	Chunk   int64
	Attempt int
	Hedge   bool // a backup attempt started for a straggler

	// Start and End bound the attempt. A zero End, or one before Start,
	// stands for an attempt still in flight: it is drawn up to Data.Ended.
	Start, End time.Time
	Outcome    string // one of the Outcome constants
	Reason     string // why it failed, from the worker: untrusted text

	StartFrame, FrameCount int64 // the chunk's frames: StartFrame to StartFrame+FrameCount-1
	Bytes                  int64 // the chunk's output, for an ok attempt
	CostUSD                float64
}

// Data is what a report shows: a run of a job, from its spec's chunks to
// the attempts the run made.
type Data struct {
	Title   string // the job's name
	Target  string // local, aws, cloudrun
	Outcome string // done, failed, budget, interrupted
	Message string

	Started, Ended time.Time

	Chunks   int // in the spec
	Skipped  int // done by an earlier run
	Attempts []Attempt

	UploadedBytes, DownloadedBytes int64

	CostUSD, EstimateUSD float64 // spent in this run; estimate for the rest (0: none)
	PriceNote            string  // e.g. "prices of 2026-12-01, us-east-1, arm64 2048 MB"
}

//go:embed page.html.tmpl
var pageText string

var pageTemplate = template.Must(template.New("page").Parse(pageText))

// Render returns the HTML page. It is deterministic for the same Data (no
// time.Now inside).
func Render(d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, newPage(d)); err != nil {
		return nil, fmt.Errorf("rendering the report: %w", err)
	}
	return b.Bytes(), nil
}
