package cli

import (
	"bytes"
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
