package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// testConfig is DefaultConfig with a private workspace root.
func testConfig(t testing.TB) worker.Config {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	return cfg
}

// quiet keeps the worker's logs and passthrough out of the test output.
func quiet() []worker.Option {
	return []worker.Option{
		worker.WithPassthrough(io.Discard, io.Discard),
		worker.WithLogger(slog.New(slog.DiscardHandler)),
	}
}

func newWorker(cfg worker.Config, opts ...worker.Option) *worker.Worker {
	return worker.New(cfg, append(quiet(), opts...)...)
}

// oneChunk is a job spec whose only chunk, id 0, runs command.
func oneChunk(command string) jobspec.Spec {
	return jobspec.Spec{
		ID:       "job-1",
		Metadata: jobspec.Metadata{TotalFrames: 10, FPS: 30, Width: 64, Height: 64},
		Chunks:   []jobspec.Chunk{{ID: 0, FrameCount: 10, OutputFile: "chunk_0.mp4", Command: command}},
	}
}

func marshalSpec(t testing.TB, spec jobspec.Spec) []byte {
	t.Helper()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeSpec writes spec into a fresh temporary directory and returns its path.
func writeSpec(t testing.TB, spec jobspec.Spec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(path, marshalSpec(t, spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runChunk runs the only chunk of a spec holding command with cfg.
func runChunk(t testing.TB, cfg worker.Config, command string) *worker.Result {
	t.Helper()
	path := writeSpec(t, oneChunk(command))
	return newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: path})
}

// assertEmptyDir fails unless dir exists and holds nothing but the asset
// cache that a worker keeps below its workspace root.
const cacheDirName = "helios-cache"

func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	for _, e := range entries {
		if e.Name() == cacheDirName { // kept for the next chunks: see cache_test.go
			continue
		}
		t.Errorf("%s left behind in %s", e.Name(), dir)
	}
}

// procsWithCmdline returns the pids whose /proc/PID/cmdline is argv
// joined by NUL bytes (zombies have an empty cmdline and never match).
func procsWithCmdline(t testing.TB, argv ...string) []int {
	t.Helper()
	want := []byte{}
	for _, a := range argv {
		want = append(append(want, a...), 0)
	}
	dirs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(data, want) {
			continue // gone since the glob, or another process
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		pids = append(pids, pid)
	}
	return pids
}

// assertNoProc fails if a process with this argv is still alive once the
// kernel has had time to finish killing it, which a saturated machine has
// been seen to take seconds for: it waits until the test's deadline, so
// the sleeps it looks for must outlast any test run (hours), lest one the
// worker failed to kill end on its own meanwhile.
func assertNoProc(t testing.TB, argv ...string) {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc:", err)
	}
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for {
		pids := procsWithCmdline(t, argv...)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %q still running: pids %v", argv, pids)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killOnCleanup kills, when t ends, the processes with this argv that a
// failing test may have left sleeping.
func killOnCleanup(t testing.TB, argv ...string) {
	t.Cleanup(func() {
		for _, pid := range procsWithCmdline(t, argv...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// lineWatch is a passthrough writer that notes when a line holding want
// first reaches the worker, and then calls then, if set.
type lineWatch struct {
	want string
	then func()

	mu sync.Mutex
	at time.Time
}

func (l *lineWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at.IsZero() && bytes.Contains(p, []byte(l.want)) {
		l.at = time.Now()
		if l.then != nil {
			l.then()
		}
	}
	return len(p), nil
}

// seen is when the line came, or the zero time if it did not.
func (l *lineWatch) seen() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at
}

// runOrFail runs the request and fails t if Run has not returned by the
// test's deadline, less a margin: the chunks that use it sleep for hours
// unless the worker kills them.
func runOrFail(t testing.TB, ctx context.Context, w *worker.Worker, req jobspec.Request) *worker.Result {
	t.Helper()
	done := make(chan *worker.Result, 1)
	go func() { done <- w.Run(ctx, req) }()
	select {
	case r := <-done:
		return r
	case <-testdeadline.After(t):
		t.Fatalf("Run(%+v) has not returned", req)
		return nil
	}
}
