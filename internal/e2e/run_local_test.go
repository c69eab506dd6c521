package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// localArgs are the flags of a local video run in the tests: two chunks
// at a time, hedging once three chunks finished and a chunk runs 1 s.
func localArgs(t *testing.T, v videoProject, more ...string) []string {
	return append([]string{v.Spec, "--target", "local", "--workspace-root", t.TempDir(), "--concurrency", "2",
		"--hedge-floor", "1s", "--hedge-after", "3"}, more...)
}

// A local run of real video: chunk 3 hangs on its first attempt only and
// chunk 5 renders 20 of its 30 frames on its first. The hang is hedged
// (the run ends long before its 600 s: the test's deadline is shorter),
// the short part is checked by ffprobe and rendered again, the merged
// video has every frame, the webhook receiver refuses the first delivery
// and gets the second, signed, and the report draws every attempt.
func TestRunLocalVideo(t *testing.T) {
	if testing.Short() {
		t.Skip("renders video; skipped with -short")
	}
	v := writeVideoProject(t, 10, "hang-90", "short-150")
	hook := startHookReceiver(t, "s3cret", 1)
	t.Setenv("HELIOS_WEBHOOK_SECRET", "s3cret") // as a user keeps it out of ps
	report := filepath.Join(t.TempDir(), "render.html")
	events, stderr := runEvents(t, 0, localArgs(t, v, "--webhook", hook.URL, "--report", report)...)
	if !v.happened("hang-90") || !v.happened("short-150") {
		t.Fatal("the faults did not fire")
	}
	if n := frames(t, filepath.Join(v.Dir, "out.mp4")); n != 300 {
		t.Errorf("out.mp4 has %d frames, want 300", n)
	}
	var hedged, lost, redo bool
	for _, e := range events {
		hedged = hedged || e["event"] == "started" && e["chunk"] == 3.0 && e["hedge"] == true
		lost = lost || e["event"] == "lost" && e["chunk"] == 3.0 && e["attempt"] == 1.0
		redo = redo || e["event"] == "redo" && e["chunk"] == 5.0 && strings.Contains(e["reason"].(string), "has 20 frames; want 30")
	}
	if !hedged || !lost || !redo {
		t.Errorf("hedged %v, lost %v, redo %v: want chunk 3 hedged and its first attempt lost, chunk 5 rendered again\n%v", hedged, lost, redo, events)
	}
	sum := eventsOf(events, "summary")[0]
	if sum["hedgesWon"] != 1.0 || sum["ok"] != 10.0 {
		t.Errorf("summary %v: want 10 ok, one hedge won", sum)
	}
	if names, _ := filepath.Glob(filepath.Join(v.Dir, "*attempt*")); len(names) > 0 {
		t.Errorf("attempt outputs left beside the spec: %v", names)
	}
	if !strings.Contains(stderr, "checked "+filepath.Join(v.Dir, "out.mp4")+": 300 frames") {
		t.Errorf("stderr does not say the merged video was checked:\n%s", stderr)
	}
	p := hook.checkOneOutcome(t, "done")
	if p.OK != 10 || p.Hedges != 1 || p.Output != filepath.Join(v.Dir, "out.mp4") || p.Target != "local" {
		t.Errorf("payload %+v", p)
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	rects := len(regexp.MustCompile(`<rect[^>]*data-chunk=`).FindAll(page, -1))
	if started := len(eventsOf(events, "started")); rects != started {
		t.Errorf("the report draws %d attempts, want the %d started", rects, started)
	}
}

// Interrupted: the caller's context ends once a part is written, which
// drains the run as a first SIGINT does (the chunks in flight finish, no
// other starts); the report is written, the webhook tells "interrupted",
// once, and nothing is merged.
func TestRunLocalInterruptedTells(t *testing.T) {
	if testing.Short() {
		t.Skip("renders video; skipped with -short")
	}
	v := writeVideoProject(t, 10)
	hook := startHookReceiver(t, "k", 0)
	report := filepath.Join(t.TempDir(), "render.html")
	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(v.Dir, "out_part_1.mp4")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb bytes.Buffer
	args := append([]string{"run", "--progress", "json", "--no-hedge", "--webhook", hook.URL, "--webhook-secret", "k", "--report", report}, localArgs(t, v)...)
	if code := cli.Run(ctx, args, &out, &errb); code == 0 {
		t.Fatalf("exit 0 for an interrupted run\n%s%s", out.String(), errb.String())
	}
	if p := hook.checkOneOutcome(t, "interrupted"); p.NotRun == 0 && p.Failed == 0 {
		t.Errorf("payload %+v: want chunks left", p)
	}
	if page, err := os.ReadFile(report); err != nil || !bytes.Contains(page, []byte("interrupted")) {
		t.Errorf("report: %v; want one that says interrupted", err)
	}
	if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
		t.Error("merged an interrupted run")
	}
}
