package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func TestRunSignal(t *testing.T) {
	for _, tc := range []struct {
		command, signal string
		code            int
	}{
		{`sh -c 'kill -9 $$'`, "SIGKILL", 137},
		{`sh -c 'kill -TERM $$'`, "SIGTERM", 143},
		{`sh -c 'echo before; kill -USR1 $$'`, "SIGUSR1", 138},
	} {
		t.Run(tc.signal, func(t *testing.T) {
			cfg := testConfig(t)
			r := runChunk(t, cfg, tc.command)
			if r.OK() || !r.Started || r.Err != nil || r.Signal != tc.signal || r.ExitCode != tc.code {
				t.Fatalf("Run = %+v, want killed by %s with exit code %d", r, tc.signal, tc.code)
			}
			if got, want := r.Message(), "chunk command killed by signal "+tc.signal; got != want {
				t.Errorf("Message() = %q, want %q", got, want)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// stopBound bounds how long Run may take to answer once its chunk is
// stopped or its leader has exited, measured from when the worker read the
// chunk's last line: killing, reaping and cleaning up take milliseconds,
// even on a loaded machine. The slow paths it catches take longer: the
// worker's 2 s pipe drain (pipeDrainTimeout) for a process still holding
// the output pipes, or the chunk's hours-long sleep.
const stopBound = 1500 * time.Millisecond

// stopCase runs `sh -c 'echo started; sleep N'` until ctx or cfg stops it,
// at most stopsWithin after the chunk printed "started", and checks that
// Run answered soon after and left nothing behind. onStarted, if set, runs
// as the "started" line reaches the worker. N is hours, so that a chunk
// the worker did not kill can never look like one that it did.
func stopCase(t *testing.T, ctx context.Context, cfg worker.Config, sleep string, stopsWithin time.Duration, onStarted func()) *worker.Result {
	t.Helper()
	killOnCleanup(t, "sleep", sleep)
	path := writeSpec(t, oneChunk(`sh -c 'echo started; sleep `+sleep+`'`))
	started := &lineWatch{want: "started", then: onStarted}
	w := newWorker(cfg, worker.WithPassthrough(started, io.Discard))
	r := runOrFail(t, ctx, w, jobspec.Request{JobPath: path})
	if at := started.seen(); at.IsZero() {
		t.Error("the chunk was stopped before it printed started")
	} else if elapsed := time.Since(at); elapsed > stopsWithin+stopBound {
		t.Errorf("Run answered %v after the chunk printed started, want at most %v + %v", elapsed, stopsWithin, stopBound)
	}
	if !r.Started || r.OK() || r.ExitCode != -1 || r.Signal != "" {
		t.Errorf("Run = %+v, want a started chunk killed by the worker (exit code -1, no signal)", r)
	}
	if string(r.Stdout) != "started\n" {
		t.Errorf("Stdout = %q, want what was printed before the kill", r.Stdout)
	}
	if r.Message() == "" || r.Message() != r.Err.Error() {
		t.Errorf("Message() = %q", r.Message())
	}
	assertNoProc(t, "sleep", sleep)
	assertEmptyDir(t, cfg.WorkspaceRoot)
	return r
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := stopCase(t, ctx, testConfig(t), "7037", 0, cancel)
	if !errors.Is(r.Err, worker.ErrCanceled) || errors.Is(r.Err, worker.ErrTimeout) {
		t.Errorf("Err = %v, want ErrCanceled", r.Err)
	}
}

func TestRunCancelCause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	gone := errors.New("client went away")
	r := stopCase(t, ctx, testConfig(t), "7041", 0, func() { cancel(gone) })
	if !errors.Is(r.Err, worker.ErrCanceled) || !errors.Is(r.Err, gone) {
		t.Errorf("Err = %v, want ErrCanceled and the cause", r.Err)
	}
}

func TestRunCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cfg := testConfig(t)
	killOnCleanup(t, "sleep", "7044")
	r := newWorker(cfg).Run(ctx, jobspec.Request{JobPath: writeSpec(t, oneChunk("sleep 7044"))})
	if r.OK() || !errors.Is(r.Err, worker.ErrCanceled) {
		t.Errorf("Run = %+v, want ErrCanceled", r)
	}
	assertNoProc(t, "sleep", "7044")
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// The timeouts below are long enough for the chunk to print "started"
// first on a loaded machine; they are what is tested, not a guard.

func TestRunChunkTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.ChunkTimeout = 2 * time.Second
	r := stopCase(t, t.Context(), cfg, "7039", cfg.ChunkTimeout, nil)
	if !errors.Is(r.Err, worker.ErrTimeout) || errors.Is(r.Err, worker.ErrCanceled) {
		t.Errorf("Err = %v, want ErrTimeout", r.Err)
	}
	if !strings.Contains(r.Message(), worker.EnvChunkTimeout) {
		t.Errorf("Message() = %q, want it to name %s", r.Message(), worker.EnvChunkTimeout)
	}
}

// A platform deadline (Lambda's) on the context is a timeout too.
func TestRunContextDeadline(t *testing.T) {
	const timeout = 2 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r := stopCase(t, ctx, testConfig(t), "7042", timeout, nil)
	if !errors.Is(r.Err, worker.ErrTimeout) {
		t.Errorf("Err = %v, want ErrTimeout", r.Err)
	}
}

// What the chunk starts in the background dies with it, and does not keep
// Run waiting on its output pipes: Run answers within stopBound of the
// chunk's last line, where the pipes alone would hold it 2 s.
func TestRunKillsBackgroundChildren(t *testing.T) {
	for _, tc := range []struct{ command, sleep, out string }{
		{`sh -c 'sleep 7038 & echo done'`, "7038", "done\n"},
		{`sh -c 'sleep 7043 </dev/null >/dev/null 2>&1 & echo detached'`, "7043", "detached\n"},
	} {
		killOnCleanup(t, "sleep", tc.sleep)
		cfg := testConfig(t)
		last := &lineWatch{want: tc.out}
		w := newWorker(cfg, worker.WithPassthrough(last, io.Discard))
		r := runOrFail(t, t.Context(), w, jobspec.Request{JobPath: writeSpec(t, oneChunk(tc.command))})
		if at := last.seen(); at.IsZero() {
			t.Errorf("%s: the worker never read %q", tc.command, tc.out)
		} else if elapsed := time.Since(at); elapsed > stopBound {
			t.Errorf("%s: Run answered %v after the chunk's last line, want at most %v", tc.command, elapsed, stopBound)
		}
		if !r.OK() || string(r.Stdout) != tc.out {
			t.Errorf("%s: Run = %+v", tc.command, r)
		}
		assertNoProc(t, "sleep", tc.sleep)
		assertEmptyDir(t, cfg.WorkspaceRoot)
	}
}

func TestRunOutputLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.OutputLimit = 1024
	r := runChunk(t, cfg, `sh -c 'head -c 500000 /dev/zero | tr "\0" a; head -c 300000 /dev/zero | tr "\0" b >&2'`)
	if !r.OK() {
		t.Fatalf("Run = %+v", r)
	}
	if len(r.Stdout) != 1024 || !r.StdoutTruncated || r.StdoutBytes != 500000 {
		t.Errorf("stdout: %d bytes kept, truncated %v, %d counted", len(r.Stdout), r.StdoutTruncated, r.StdoutBytes)
	}
	if len(r.Stderr) != 1024 || !r.StderrTruncated || r.StderrBytes != 300000 {
		t.Errorf("stderr: %d bytes kept, truncated %v, %d counted", len(r.Stderr), r.StderrTruncated, r.StderrBytes)
	}
	if !bytes.Equal(r.Stdout, bytes.Repeat([]byte("a"), 1024)) || !bytes.Equal(r.Stderr, bytes.Repeat([]byte("b"), 1024)) {
		t.Errorf("kept tails are not all a / all b")
	}
}

// The tail keeps the end of the stream, not its beginning.
func TestRunOutputTail(t *testing.T) {
	cfg := testConfig(t)
	cfg.OutputLimit = 16
	r := runChunk(t, cfg, `sh -c 'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done'`)
	if !r.OK() || string(r.Stdout) != "ne 498\nline 499\n" || !r.StdoutTruncated || r.StderrTruncated {
		t.Errorf("Run = %+v, Stdout %q", r, r.Stdout)
	}
}

func TestRunConcurrent(t *testing.T) {
	const n = 20
	cfg := testConfig(t)
	spec := jobspec.Spec{ID: "many"}
	for i := range n {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i),
			Command: `sh -c 'touch "marker-$HELIOS_CHUNK_ID" && ls -A'`})
	}
	path := writeSpec(t, spec)
	w := newWorker(cfg)
	results := make([]*worker.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: int64(i)}) })
	}
	wg.Wait()
	for i, r := range results {
		if want := fmt.Sprintf("marker-%d\n", i); !r.OK() || string(r.Stdout) != want {
			t.Errorf("chunk %d: Run = %+v, Stdout %q, want %q", i, r, r.Stdout, want)
		}
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// Passthrough copies whole lines, ending an unfinished last line, while the
// capture keeps the bytes as printed.
func TestRunPassthroughLines(t *testing.T) {
	cfg := testConfig(t)
	var out, errOut bytes.Buffer
	w := newWorker(cfg, worker.WithPassthrough(&out, &errOut))
	r := w.Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, oneChunk(`sh -c 'printf "a\nb"; printf c >&2'`))})
	if !r.OK() || string(r.Stdout) != "a\nb" || string(r.Stderr) != "c" {
		t.Fatalf("Run = %+v", r)
	}
	if out.String() != "a\nb\n" || errOut.String() != "c\n" {
		t.Errorf("passed through %q and %q, want \"a\\nb\\n\" and \"c\\n\"", out.String(), errOut.String())
	}
}

// Concurrent chunks of one worker share its logs without mixing lines.
func TestRunPassthroughConcurrent(t *testing.T) {
	const n, lines = 8, 300
	cfg := testConfig(t)
	spec := jobspec.Spec{ID: "shared-log"}
	for i := range n {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), Command: `sh -c 'i=0; while [ $i -lt ` +
			strconv.Itoa(lines) + ` ]; do echo "chunk-$HELIOS_CHUNK_ID-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; ` +
			`echo "err-$HELIOS_CHUNK_ID" >&2; i=$((i+1)); done'`})
	}
	path := writeSpec(t, spec)
	var log bytes.Buffer // stdout and stderr both: written under the worker's lock
	w := newWorker(cfg, worker.WithPassthrough(&log, &log))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if r := w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: int64(i)}); !r.OK() {
				t.Errorf("chunk %d: Run = %+v", i, r)
			}
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for line := range strings.Lines(log.String()) {
		counts[line]++
	}
	for i := range n {
		out := fmt.Sprintf("chunk-%d-%s\n", i, strings.Repeat("x", 44))
		errLine := fmt.Sprintf("err-%d\n", i)
		if counts[out] != lines || counts[errLine] != lines {
			t.Errorf("chunk %d: %d and %d whole lines in the log, want %d", i, counts[out], counts[errLine], lines)
		}
	}
	if len(counts) != 2*n {
		t.Errorf("%d distinct lines in the log, want %d", len(counts), 2*n)
	}
}

// A process that leaves the chunk's process group (as Playwright starts
// Chromium, in a session of its own) is found by the workspace in its
// environment and killed too, whether the chunk exits or is killed.
func TestRunKillsProcessesThatLeftTheGroup(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	for name, tc := range map[string]struct {
		command string
		timeout time.Duration
	}{
		"chunk exits":  {`sh -c 'setsid sleep 42 </dev/null >/dev/null 2>&1 & sleep 0.2'`, 0},
		"chunk killed": {`sh -c 'setsid sh -c "sleep 42" </dev/null >/dev/null 2>&1 & sleep 30'`, time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.ChunkTimeout = tc.timeout
			r := runChunk(t, cfg, tc.command)
			if !r.Started {
				t.Fatalf("Run = %+v", r)
			}
			// No grace here: by the time Run returns, the sweep has waited.
			if pids := procsWithCmdline(t, "sleep", "42"); len(pids) > 0 {
				t.Errorf("a process that left the group is still running: pids %v", pids)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}
