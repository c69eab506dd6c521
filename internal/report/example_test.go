package report_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/helios-project/helios-scaffold/internal/report"
)

func ExampleRender() {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	page, err := report.Render(report.Data{
		Title: "intro <v2>", Target: "local", Outcome: "done",
		Started: start, Ended: start.Add(3 * time.Second), Chunks: 1,
		Attempts: []report.Attempt{{
			Chunk: 0, Attempt: 1, Start: start, End: start.Add(2500 * time.Millisecond),
			Outcome: report.OutcomeOK, StartFrame: 0, FrameCount: 60,
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bytes.Contains(page, []byte("<h1>intro &lt;v2&gt;")))
	fmt.Println(bytes.Contains(page, []byte("chunk 0 attempt 1: ok, 2.50 s, frames 0–59")))
	fmt.Println(bytes.Count(page, []byte("data-chunk=")), "attempt drawn")
	// Output:
	// true
	// true
	// 1 attempt drawn
}
