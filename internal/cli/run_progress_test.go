package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// The bar counts only the chunks this run renders: one done before
// leaves its total (so that its rate and ETA are this run's), and one
// rendered again comes back into it.
func TestProgressBarLeavesSkippedOut(t *testing.T) {
	var stderr bytes.Buffer
	p := newProgress("bar", &bytes.Buffer{}, &stderr, 10)
	for _, e := range []fanout.Event{
		{Kind: fanout.EventSkipped, Chunk: 0}, {Kind: fanout.EventSkipped, Chunk: 1}, {Kind: fanout.EventSkipped, Chunk: 2},
		{Kind: fanout.EventRedo, Chunk: 2, Reason: "gone"},
		{Kind: fanout.EventStarted, Chunk: 3}, {Kind: fanout.EventFinished, Chunk: 3},
	} {
		p.event(e)
	}
	if max, done := p.bar.GetMax(), p.bar.State().CurrentNum; max != 8 || done != 1 {
		t.Errorf("bar at %d of %d, want 1 of 8 (10 chunks, 3 done before, 1 of them again)", done, max)
	}
	if p.inFlight() != 0 {
		t.Errorf("%d in flight, want 0", p.inFlight())
	}
}

// A Step Functions execution's events move the bar by chunks and print a
// line when its state changes, not while it runs; a Cloud Run job's by
// tasks.
func TestProgressBarOfAnExecution(t *testing.T) {
	arn := "arn:aws:states:us-east-1:123456789012:execution:w-render:job-1"
	var stderr bytes.Buffer
	p := newProgress("bar", &bytes.Buffer{}, &stderr, 0)
	p.execution(executionEvent{State: "running", Execution: arn, Chunks: 10, Succeeded: 3, Failed: 1, Running: 4, Pending: 2})
	if max, done := p.bar.GetMax(), p.bar.State().CurrentNum; max != 10 || done != 4 {
		t.Errorf("bar at %d of %d, want 4 of 10 chunks", done, max)
	}
	p.execution(executionEvent{State: "timed_out", Execution: arn, Chunks: 10, Succeeded: 3, Failed: 7})
	if want := "execution " + arn + ": timed out (chunks: 3 ok, 7 failed, 0 running, 0 pending of 10)"; !strings.Contains(stderr.String(), want) ||
		strings.Contains(stderr.String(), ": running (") {
		t.Errorf("stderr:\n%s\nwant %q and no line while it ran", stderr.String(), want)
	}

	stderr.Reset()
	p = newProgress("bar", &bytes.Buffer{}, &stderr, 0)
	p.execution(executionEvent{State: "started", Execution: "projects/p/locations/l/jobs/j/executions/e", Tasks: 5, ConsoleURL: "https://console"})
	p.execution(executionEvent{State: "running", Execution: "projects/p/locations/l/jobs/j/executions/e", Tasks: 5, Succeeded: 2})
	if max, done := p.bar.GetMax(), p.bar.State().CurrentNum; max != 5 || done != 2 || !strings.Contains(stderr.String(), "5 tasks") {
		t.Errorf("bar at %d of %d, want 2 of 5 tasks; stderr:\n%s", done, max, stderr.String())
	}
}
