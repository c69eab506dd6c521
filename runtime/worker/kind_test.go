package worker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Every way an invocation can fail comes back with its kind, whatever its
// message says.
func TestResultKind(t *testing.T) {
	notExecutable := filepath.Join(t.TempDir(), "render.sh")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		// spec is the job spec's text; "" is a spec whose only chunk runs
		// command and names outputFile.
		spec, command, outputFile string
		cfg                       func(*worker.Config)
		store                     func(*memStore)
		req                       func(path string) jobspec.Request
		ctx                       context.Context
		want                      worker.Kind
		// status is the contract's status (Result.Status) for it.
		status int
	}{
		{name: "success", command: "true", want: "", status: 200},
		{name: "uploaded", command: `sh -c 'echo x > chunk_0.mp4'`, cfg: upload, want: "", status: 200},
		{name: "no jobPath", req: func(string) jobspec.Request { return jobspec.Request{} }, want: worker.KindPayload, status: 400},
		{name: "jobPath not allowed", command: "true", cfg: func(c *worker.Config) { c.AllowedJobPaths = []string{"s3://jobs/"} },
			want: worker.KindNotAllowed, status: 403},
		{name: "worker misconfigured", command: "true", cfg: func(c *worker.Config) { c.OutputLimit = -1 }, want: worker.KindConfig, status: 500},
		{name: "spec not JSON", spec: "{", want: worker.KindSpec, status: 500},
		{name: "spec without chunks", spec: `{"id":"j"}`, want: worker.KindSpec, status: 500},
		{name: "spec with a key twice", spec: `{"id":"j","id":"k","chunks":[]}`, want: worker.KindSpec, status: 400},
		{name: "spec with two chunks of one id", spec: `{"id":"j","chunks":[{"id":0,"command":"true"},{"id":0,"command":"true"}]}`,
			want: worker.KindSpec, status: 400},
		{name: "spec over HELIOS_SPEC_MAX_BYTES", command: "true", cfg: func(c *worker.Config) { c.SpecMaxBytes = 10 }, want: worker.KindSpec, status: 500},
		{name: "chunk not found", command: "true",
			req: func(p string) jobspec.Request { return jobspec.Request{JobPath: p, ChunkIndex: 9} }, want: worker.KindSpec, status: 500},
		{name: "outputFile with a NUL byte", command: "true", outputFile: "chunk\x00.mp4", want: worker.KindSpec, status: 500},
		{name: "outputFile with a NUL byte, uploaded", command: "true", outputFile: "chunk\x00.mp4", cfg: upload, want: worker.KindSpec, status: 500},
		{name: "outputFile outside the workspace", command: "true", outputFile: "../x.mp4", cfg: upload, want: worker.KindSpec, status: 500},
		{name: "spec not found", req: func(string) jobspec.Request { return jobspec.Request{JobPath: "s3://renders/none.json"} },
			want: worker.KindStore, status: 500},
		{name: "executable not found", command: "helios-no-such-renderer --frames 10", want: worker.KindCommand, status: 500},
		{name: "executable path not found", command: "./render.sh", want: worker.KindCommand, status: 500},
		{name: "not executable", command: notExecutable, want: worker.KindCommand, status: 500},
		{name: "empty command", command: " ", want: worker.KindCommand, status: 500},
		{name: "unterminated quote", command: "sh -c 'true", want: worker.KindCommand, status: 500},
		{name: "command exits 3", command: "sh -c 'exit 3'", want: worker.KindFailed, status: 500},
		{name: "command killed by a signal", command: `sh -c 'kill -9 $$'`, want: worker.KindFailed, status: 500},
		{name: "output missing", command: "true", cfg: upload, want: worker.KindOutput, status: 500},
		{name: "output a folder", command: "mkdir chunk_0.mp4", cfg: upload, want: worker.KindOutput, status: 500},
		{name: "output over HELIOS_OUTPUT_MAX_BYTES", command: `sh -c 'echo 0123456789 > chunk_0.mp4'`,
			cfg: func(c *worker.Config) { upload(c); c.OutputMaxBytes = 5 }, want: worker.KindOutput, status: 500},
		{name: "upload refused", command: `sh -c 'echo x > chunk_0.mp4'`, cfg: upload,
			store: func(m *memStore) { m.putErr = fmt.Errorf("s3://renders/out/chunk_0.mp4: %w", store.ErrAccessDenied) },
			want:  worker.KindNotAllowed, status: 500},
		{name: "upload failed", command: `sh -c 'echo x > chunk_0.mp4'`, cfg: upload,
			store: func(m *memStore) { m.putErr = errors.New("connection reset by peer") }, want: worker.KindStore, status: 500},
		{name: "upload stalled", command: `sh -c 'echo x > chunk_0.mp4'`,
			cfg:   func(c *worker.Config) { upload(c); c.UploadStallTimeout = 200 * time.Millisecond },
			store: func(m *memStore) { m.delay = time.Hour }, want: worker.KindStore, status: 500},
		{name: "chunk timeout", command: "sleep 7203", cfg: func(c *worker.Config) { c.ChunkTimeout = 200 * time.Millisecond },
			want: worker.KindTimeout, status: 500},
		{name: "cancelled", command: "sleep 7203", ctx: cancelled, want: worker.KindCancelled, status: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			killOnCleanup(t, "sleep", "7203")
			cfg := testConfig(t)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			m := newMemStore(nil)
			if tc.store != nil {
				tc.store(m)
			}
			var path string
			if tc.spec != "" {
				path = filepath.Join(t.TempDir(), "spec.json")
				if err := os.WriteFile(path, []byte(tc.spec), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				spec := oneChunk(tc.command)
				if tc.outputFile != "" {
					spec.Chunks[0].OutputFile = tc.outputFile
				}
				path = writeSpec(t, spec)
			}
			req := jobspec.Request{JobPath: path}
			if tc.req != nil {
				req = tc.req(path)
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			r := runOrFail(t, ctx, newWorker(cfg, worker.WithSource("s3", m)), req)
			if got := r.Kind(); got != tc.want {
				t.Errorf("Kind() = %q, want %q (OK %v, message %q)", got, tc.want, r.OK(), r.Message())
			}
			if got := r.Status(); got != tc.status {
				t.Errorf("Status() = %d, want %d (kind %q, message %q)", got, tc.status, r.Kind(), r.Message())
			}
			if got := worker.KindOf(r.Err); r.Err != nil && got != r.Kind() {
				t.Errorf("KindOf(Err) = %q, Kind() = %q", got, r.Kind())
			}
		})
	}
}

// upload sets an output location in a store of the test's (s3://).
func upload(c *worker.Config) { c.OutputURL = "s3://renders/out" }

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want worker.Kind
	}{
		{nil, ""},
		{jobspec.ErrPayloadSyntax, worker.KindPayload},
		{jobspec.ErrChunkIndexRange, worker.KindPayload},
		{fmt.Errorf("job path %q: %w", "x", worker.ErrJobPathNotAllowed), worker.KindNotAllowed},
		{fmt.Errorf("reading job spec: %w", store.ErrAccessDenied), worker.KindNotAllowed},
		{fmt.Errorf("decoding job spec: %w", jobspec.ErrAmbiguousJSON), worker.KindSpec},
		{jobspec.ErrMissingChunks, worker.KindSpec},
		{fmt.Errorf("splitting command: %w", jobspec.ErrTrailingBackslash), worker.KindCommand},
		{fmt.Errorf("%w: outputFile x", worker.ErrOutputMissing), worker.KindOutput},
		{fmt.Errorf("%w: reading job spec: %w", worker.ErrCanceled, store.ErrAccessDenied), worker.KindCancelled},
		{fmt.Errorf("%w: assets took too long", worker.ErrTimeout), worker.KindTimeout},
		{fmt.Errorf("chunk 3: %w for 300 s; killed", worker.ErrIdle), worker.KindIdle},
		{fmt.Errorf("reading job spec: %w", store.ErrNotFound), worker.KindStore},
		{errors.New("connection reset by peer"), worker.KindStore},
	}
	for _, tc := range tests {
		if got := worker.KindOf(tc.err); got != tc.want {
			t.Errorf("KindOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestKindFinal(t *testing.T) {
	for k, want := range map[worker.Kind]bool{
		worker.KindPayload: true, worker.KindSpec: true, worker.KindNotAllowed: true, worker.KindCommand: true,
		worker.KindOutput: true, worker.KindConfig: true,
		worker.KindFailed: false, worker.KindTimeout: false, worker.KindCancelled: false, worker.KindStore: false,
		worker.KindWorker: false, worker.KindIdle: false, "": false, "newer": false,
	} {
		if got := k.Final(); got != want {
			t.Errorf("Kind(%q).Final() = %v, want %v", k, got, want)
		}
	}
}
