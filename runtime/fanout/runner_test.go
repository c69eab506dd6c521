package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// quiet keeps a worker's logs and passthrough out of the test output.
func quiet() []worker.Option {
	return []worker.Option{worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler))}
}

// fastBackoff keeps retries quick in tests.
var fastBackoff = fanout.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond}

// writeJob writes a spec of n chunks, chunk i running command(i) with
// outputFile out_part_i.txt, and returns the job as loaded.
func writeJob(t *testing.T, dir string, n int, command func(i int) string) *fanout.Job {
	t.Helper()
	spec := jobspec.Spec{MergeCommand: "sh -c 'cat out_part_*.txt > merged.txt'"}
	for i := range n {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), OutputFile: fmt.Sprintf("out_part_%d.txt", i), Command: command(i)})
	}
	data, _ := json.Marshal(spec)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	job, err := fanout.ParseJob(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// Local: every chunk fails on its first try (a marker outside its
// workspace says whether it ran before); with RetryFailed each succeeds
// on its second, the state records them all, and a second run skips
// them.
func TestRunLocalRetryFailed(t *testing.T) {
	dir, marks, out := t.TempDir(), t.TempDir(), t.TempDir()
	job := writeJob(t, dir, 20, func(i int) string {
		m := filepath.Join(marks, fmt.Sprint(i))
		return fmt.Sprintf(`sh -c 'echo run >> %s.runs; test -e %s || { touch %s; echo first try >&2; exit 7; }; echo chunk %d > out_part_%d.txt'`, m, m, m, i, i)
	})
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	local, err := fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: out, Options: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	state, err := fanout.OpenState(t.Context(), filepath.Join(out, "state"), job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var events []fanout.Event
	r := &fanout.Runner{Target: local.Target, JobPath: local.JobPath, Concurrency: 4, Retries: 1, RetryFailed: true,
		Backoff: fastBackoff, State: state, Events: func(e fanout.Event) { events = append(events, e) }}
	sum, err := r.Run(t.Context(), job)
	if err != nil || !sum.Done() || sum.OK != 20 || sum.Retries != 20 || sum.Failed != 0 {
		t.Fatalf("Run = %+v, %v; want 20 chunks done after 20 retries", sum, err)
	}
	kinds := map[string]int{}
	for _, e := range events {
		kinds[e.Kind]++
		if e.Kind == fanout.EventRetried && (e.ExitCode == nil || *e.ExitCode != 7) {
			t.Errorf("retried event %+v: want exit code 7", e)
		}
	}
	if kinds[fanout.EventStarted] != 40 || kinds[fanout.EventRetried] != 20 || kinds[fanout.EventFinished] != 20 {
		t.Errorf("events %v, want 40 started, 20 retried, 20 finished", kinds)
	}
	for i := range 20 {
		name := filepath.Join(out, fmt.Sprintf("out_part_%d.txt", i))
		got, err := os.ReadFile(name)
		if string(got) != fmt.Sprintf("chunk %d\n", i) {
			t.Errorf("out_part_%d.txt = %q, %v", i, got, err)
		}
		if info, err := os.Stat(name); err == nil && info.Mode().Perm() != newFileMode(t) {
			t.Errorf("out_part_%d.txt mode %v, want the umask's %v", i, info.Mode().Perm(), newFileMode(t))
		}
	}
	state.Close()

	state, err = fanout.OpenState(t.Context(), filepath.Join(out, "state"), job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	r.State, r.Events = state, nil
	sum, err = r.Run(t.Context(), job)
	if err != nil || !sum.Done() || sum.Skipped != 20 || sum.OK != 0 {
		t.Fatalf("second Run = %+v, %v; want all 20 skipped", sum, err)
	}
	for i := range 20 {
		if runs, _ := os.ReadFile(filepath.Join(marks, fmt.Sprint(i)+".runs")); string(runs) != "run\nrun\n" {
			t.Errorf("chunk %d ran %d times, want 2", i, strings.Count(string(runs), "run"))
		}
	}
	code, err := fanout.Merge(t.Context(), job.Spec, out, nil, io.Discard, io.Discard)
	merged, _ := os.ReadFile(filepath.Join(out, "merged.txt"))
	if code != 0 || err != nil || strings.Count(string(merged), "chunk") != 20 {
		t.Errorf("Merge = %d, %v; merged.txt %q", code, err, merged)
	}
}

// Cloud Run: a front end that answers 429 and 503 (not JSON, as Google's
// does) twice per chunk before the real handler gets the request; every
// chunk succeeds, the retries are counted. A chunk answered 400 is not
// tried again, and a failed command is not either, without RetryFailed.
func TestRunCloudRunThrottled(t *testing.T) {
	dir := t.TempDir()
	job := writeJob(t, dir, 12, func(i int) string {
		if i == 11 {
			return "sh -c 'echo boom >&2; exit 3'"
		}
		return fmt.Sprintf("sh -c 'echo %d > out_part_%d.txt'", i, i)
	})
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.OutputURL = "file://" + t.TempDir()
	h := cloudrun.NewHandler(worker.New(cfg, quiet()...), "")
	var mu sync.Mutex
	calls := map[int64]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req jobspec.Request
		json.Unmarshal(body, &req)
		mu.Lock()
		calls[req.ChunkIndex]++
		n := calls[req.ChunkIndex]
		mu.Unlock()
		switch {
		case req.ChunkIndex == 10:
			http.Error(w, `{"message":"Missing jobPath or chunkIndex"}`, http.StatusBadRequest)
		case n == 1:
			http.Error(w, "Rate exceeded.", http.StatusTooManyRequests)
		case n == 2:
			http.Error(w, "<html>Service Unavailable</html>", http.StatusServiceUnavailable)
		default:
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			h.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	caller, err := runcaller.New(t.Context(), srv.URL, runcaller.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	r := &fanout.Runner{Target: caller, JobPath: job.Location, Concurrency: 4, Retries: 3, Backoff: fastBackoff}
	sum, err := r.Run(t.Context(), job)
	if err != nil || sum.OK != 10 || sum.Failed != 2 || sum.Retries != 22 {
		t.Fatalf("Run = %+v, %v; want 10 ok, 2 failed, 22 retries", sum, err)
	}
	if calls[10] != 1 || calls[11] != 3 {
		t.Errorf("the 400 chunk was called %d times, the failing command's %d; want 1 and 3 (two throttled, one run)", calls[10], calls[11])
	}
	for _, f := range sum.Failures {
		if f.Chunk == 11 && (f.ExitCode == nil || *f.ExitCode != 3 || f.Stderr != "boom") {
			t.Errorf("failure of chunk 11: %+v, want exit code 3 and stderr boom", f)
		}
	}
}

// Drain stops the run from starting chunks; those in flight finish and
// are recorded, and the rest are left for the next run.
func TestRunDrain(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	gate := filepath.Join(t.TempDir(), "gate")
	job := writeJob(t, dir, 10, func(i int) string {
		return fmt.Sprintf(`sh -c 'while ! test -e %s; do sleep 0.01; done; echo %d > out_part_%d.txt'`, gate, i, i)
	})
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	local, err := fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: out, Options: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	drain := make(chan struct{})
	started := make(chan struct{}, 10)
	r := &fanout.Runner{Target: local.Target, JobPath: local.JobPath, Concurrency: 3, Drain: drain,
		Events: func(e fanout.Event) {
			if e.Kind == fanout.EventStarted {
				started <- struct{}{}
			}
		}}
	done := make(chan *fanout.Summary)
	go func() {
		sum, _ := r.Run(context.Background(), job)
		done <- sum
	}()
	for range 3 {
		<-started
	}
	close(drain)
	os.WriteFile(gate, nil, 0o644)
	sum := <-done
	if sum.OK != 3 || sum.NotRun != 7 || !sum.Stopped {
		t.Fatalf("Run = %+v; want the 3 in flight done, 7 not run", sum)
	}
}
