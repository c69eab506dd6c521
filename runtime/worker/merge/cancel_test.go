package merge_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// A merge whose invocation is cancelled is killed at once, with what it
// started, though it ignores SIGTERM (fanout.Merge alone would wait 10 s
// before it kills): the answer is a cancellation, nothing is uploaded,
// and no workspace is left.
func TestMergeCancelled(t *testing.T) {
	t.Parallel()
	needVideo(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	w := newWorld(t, 2, `sh -c 'trap "" TERM; sleep 300 & echo $! > `+pidFile+`; wait' merged.mp4`)
	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	defer cancel()
	pids := make(chan int, 1)
	go func() {
		for ctx.Err() == nil {
			if data, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(data), "\n") {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				pids <- pid
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	res := merge.Run(ctx, w.worker(), w.request())
	took := time.Since(start)
	if !errors.Is(res.Err, worker.ErrCanceled) || res.Kind() != worker.KindCancelled || res.ExitCode != -1 || res.Status() != 500 {
		t.Errorf("status %d, kind %q, exit code %d, %v; want 500, cancelled, -1", res.Status(), res.Kind(), res.ExitCode, res.Err)
	}
	var pid int
	select {
	case pid = <-pids:
	default:
		t.Fatal("the merge never started its sleep")
	}
	if procfs.Running(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the merge's sleep (pid %d) outlived it", pid)
	}
	if took > 8*time.Second {
		t.Errorf("the merge took %v to end after it was cancelled; want it killed at once", took)
	}
	if _, ok := w.merged(); ok || res.OutputURL != "" {
		t.Error("a cancelled merge uploaded its video")
	}
	w.checkRootEmpty(t)
}

// Without ffprobe the merge goes on, proving the outputs by size and
// SHA-256, and its answer says what it did not check.
func TestMergeWithoutFFprobe(t *testing.T) {
	needVideo(t)
	ffmpeg, _ := exec.LookPath("ffmpeg")
	sh, _ := exec.LookPath("sh")
	bin := t.TempDir()
	for _, p := range []string{ffmpeg, sh} {
		if err := os.Symlink(p, filepath.Join(bin, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorld(t, 2, "")
	t.Setenv("PATH", bin) // no ffprobe: the merge runs with what PATH has
	res := merge.Run(testdeadline.Context(t), w.worker(), w.request())
	if !res.OK() || res.Warning != merge.NoProbeWarning || res.Frames != 0 || res.Chunks != 2 {
		t.Fatalf("status %d (%s), warning %q, frames %d, chunks %d; want 200, %q, 0, 2",
			res.Status(), res.Message(), res.Warning, res.Frames, res.Chunks, merge.NoProbeWarning)
	}
	if _, ok := w.merged(); !ok {
		t.Error("merged.mp4 is not in the output folder")
	}
	w.checkRootEmpty(t)
}
