package fanout_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// encode writes frames of ffmpeg's test pattern at rate fps into path.
func encode(t *testing.T, path string, frames, fps int) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=32x32:rate=%d", fps), "-frames:v", fmt.Sprint(frames), "-pix_fmt", "yuv420p", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

// CheckVideos: a part with its frames passes, a short one and one that
// is not video are to render again, a text part is not checked, and one
// with every frame at another rate is an error that no new render mends.
func TestCheckVideos(t *testing.T) {
	p, ok := probe.Find()
	if _, err := exec.LookPath("ffmpeg"); err != nil || !ok {
		t.Skip("ffmpeg and ffprobe are not on PATH")
	}
	dir := t.TempDir()
	spec := jobspec.Spec{Metadata: jobspec.Metadata{FPS: 30}}
	for i, name := range []string{"good.mp4", "short.mp4", "text.mp4", "notes.txt", "slow.mp4"} {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), FrameCount: 10, OutputFile: name, Command: "true"})
	}
	job := &fanout.Job{Spec: &spec}
	encode(t, filepath.Join(dir, "good.mp4"), 10, 30)
	encode(t, filepath.Join(dir, "short.mp4"), 7, 30)
	writeFile(t, filepath.Join(dir, "text.mp4"), "not a video")
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a video, and not checked")
	outs := fanout.Expected(job, "")
	bad, err := fanout.CheckVideos(t.Context(), p, job, outs[:4], dir, 2)
	if err != nil || len(bad) != 2 || bad[0].Chunk != 1 || bad[1].Chunk != 2 || !bad[0].Video {
		t.Fatalf("CheckVideos = %+v, %v; want chunks 1 and 2 to render again", bad, err)
	}
	encode(t, filepath.Join(dir, "slow.mp4"), 10, 25)
	if _, err := fanout.CheckVideos(t.Context(), p, job, outs[4:], dir, 2); !errors.Is(err, fanout.ErrFrameRate) {
		t.Errorf("CheckVideos of 10 frames at 25 fps = %v, want ErrFrameRate", err)
	}
	if n := job.TotalFrames(); n != 50 {
		t.Errorf("TotalFrames = %d, want the chunks' 50", n)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// RemoveTemps removes what a killed run left beside the outputs: a
// collect's temporaries and the outputs of later attempts, by their exact
// names; nothing else, however close its name.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	gone := []string{".out[1].mp4.helios-123.tmp", "out[1].attempt-2.mp4", "out[1].attempt-17.mp4", "parts/p.attempt-3"}
	kept := []string{"out[1].mp4", "out[1].attempt-x.mp4", "out[1].attempt-2.mp4.bak", "out[1].attempt-1.mp4",
		"outX1].attempt-2.mp4", "parts/p", "parts/p.attempt-3.old"}
	for _, name := range append(gone, kept...) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		writeFile(t, filepath.Join(dir, name), "x")
	}
	os.Mkdir(filepath.Join(dir, "out[1].attempt-4.mp4"), 0o755) // a folder is not ours
	fanout.RemoveTemps(dir, []fanout.Output{{File: "out[1].mp4"}, {File: "parts/p"}})
	for _, name := range gone {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is still there", name)
		}
	}
	for _, name := range append(kept, "out[1].attempt-4.mp4") {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed", name)
		}
	}
}
