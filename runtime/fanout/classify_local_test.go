package fanout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// countingTarget counts the calls for each chunk.
type countingTarget struct {
	fanout.Target
	mu    sync.Mutex
	calls map[int64]int
}

func (c *countingTarget) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	c.mu.Lock()
	c.calls[req.ChunkIndex]++
	c.mu.Unlock()
	return c.Target.Call(ctx, req)
}

// A chunk that fails for good, by the kind the worker gives its failure,
// is tried once however many retries the run allows, even with
// RetryFailed; a command that fails is tried again with RetryFailed only.
func TestRunLocalFinalKindsNotRetried(t *testing.T) {
	chunks := []struct {
		outputFile, command string
		kind                worker.Kind
		reason              string // in the failure
	}{
		{"out_0.txt", "helios-no-such-renderer-5e1b --frames 10", worker.KindCommand, "executable file not found"},
		{"out\x00_1.txt", "sh -c 'echo 1 > out_1.txt'", worker.KindSpec, "NUL byte"},
		{"out_2.txt", "true", worker.KindOutput, "without writing its outputFile out_2.txt"},
		{"out_3.txt", "sh -c 'echo broken >&2; exit 3'", worker.KindFailed, "exited with code 3"},
		{"out_4.txt", "sh -c 'echo 4 > out_4.txt'", "", ""},
	}
	spec := jobspec.Spec{ID: "kinds"}
	for i, c := range chunks {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), OutputFile: c.outputFile, Command: c.command})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	// The job as the worker reads it, whatever fanout's own checks of a
	// spec would make of its NUL byte: the worker's answer is under test.
	parsed, err := jobspec.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	job := &fanout.Job{Spec: parsed, Location: filepath.Join(t.TempDir(), "kinds.json"), Raw: data, Hash: "sha256:kinds"}

	for _, retryFailed := range []bool{false, true} {
		t.Run(fmt.Sprintf("RetryFailed %v", retryFailed), func(t *testing.T) {
			cfg := worker.DefaultConfig()
			cfg.WorkspaceRoot = t.TempDir()
			quiet := []worker.Option{worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler))}
			local, err := fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: t.TempDir(), Options: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()
			target := &countingTarget{Target: local.Target, calls: map[int64]int{}}
			r := &fanout.Runner{Target: target, JobPath: local.JobPath, Concurrency: 2, Retries: 3, RetryFailed: retryFailed,
				Backoff: fanout.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond}}
			sum, err := r.Run(t.Context(), job)
			if err != nil || sum.OK != 1 || sum.Failed != 4 {
				t.Fatalf("Run = %+v, %v; want 1 ok, 4 failed", sum, err)
			}
			reasons := map[int64]string{}
			for _, f := range sum.Failures {
				reasons[f.Chunk] = f.Reason
			}
			for i, c := range chunks {
				want := 1
				if c.kind == worker.KindFailed && retryFailed {
					want = 1 + r.Retries
				}
				if got := target.calls[int64(i)]; got != want {
					t.Errorf("chunk %d (%s) called %d times, want %d", i, c.kind, got, want)
				}
				if !strings.Contains(reasons[int64(i)], c.reason) {
					t.Errorf("chunk %d failed with %q, want it to say %q", i, reasons[int64(i)], c.reason)
				}
			}
		})
	}
}

// Local answers as a deployed worker does: the kind of a failure, and the
// SHA-256 of an output it put.
func TestCallResultOfKindAndSHA256(t *testing.T) {
	out := t.TempDir()
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.OutputURL = "file://" + out
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
	spec := jobspec.Spec{ID: "sha", Chunks: []jobspec.Chunk{
		{ID: 0, OutputFile: "out_0.txt", Command: "sh -c 'echo frames > out_0.txt'"},
		{ID: 1, OutputFile: "out_1.txt", Command: "helios-no-such-renderer-5e1b"},
	}}
	data, _ := json.Marshal(spec)
	path := filepath.Join(t.TempDir(), "sha.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	frames := sha256.Sum256([]byte("frames\n"))
	tests := []struct {
		chunk  int64
		status int
		kind   worker.Kind
		sha    string
	}{
		{0, 200, "", hex.EncodeToString(frames[:])},
		{1, 500, worker.KindCommand, ""},
		{9, 500, worker.KindSpec, ""},
	}
	for _, tc := range tests {
		res, err := fanout.Local{Worker: w}.Call(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: tc.chunk})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.status || res.ErrorKind != string(tc.kind) {
			t.Errorf("chunk %d: status %d, errorKind %q; want %d, %q", tc.chunk, res.StatusCode, res.ErrorKind, tc.status, tc.kind)
		}
		if res.OutputSHA256 != tc.sha {
			t.Errorf("chunk %d: OutputSHA256 %q, want %q", tc.chunk, res.OutputSHA256, tc.sha)
		}
		if tc.sha != "" {
			stored, err := os.ReadFile(strings.TrimPrefix(res.OutputURL, "file://"))
			if sum := sha256.Sum256(stored); err != nil || hex.EncodeToString(sum[:]) != tc.sha {
				t.Errorf("chunk %d: the stored %s (%v) is not what the answer's SHA-256 says", tc.chunk, res.OutputURL, err)
			}
		}
	}
}
