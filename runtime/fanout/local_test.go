package fanout_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The local target and both platforms answer every invocation with one
// status (worker.Result.Status) and one kind: the same worker, given the
// same invocation locally, through the Lambda handler and through the
// Cloud Run handler, read back by the runner's callers, gives the same
// answer, which the runner judges alike. A spec that could be read two
// ways is a 400 on all three, as the contract says. Every failure gives a
// kind the runner knows, so no answer of a current worker is judged by
// its text.
func TestLocalAgreesWithPlatforms(t *testing.T) {
	dir := t.TempDir()
	write := func(name, spec string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oneChunk := func(name, command string) string {
		data, err := json.Marshal(jobspec.Spec{ID: name, Chunks: []jobspec.Chunk{{ID: 0, OutputFile: "out_0.txt", Command: command}}})
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".json", string(data))
	}
	out := t.TempDir()
	tests := []struct {
		name    string
		jobPath string
		chunk   int64
		// payload is the platforms' payload when it is not
		// {jobPath, chunkIndex}; the local target runs jobspec.Request{}.
		payload string
		cfg     func(*worker.Config)
		status  int
		kind    worker.Kind
		want    fanout.Outcome
	}{
		{name: "success", jobPath: oneChunk("ok", "true"), status: 200, want: fanout.Succeeded},
		{name: "uploaded", jobPath: oneChunk("up", "sh -c 'echo x > out_0.txt'"),
			cfg: func(c *worker.Config) { c.OutputURL = "file://" + out }, status: 200, want: fanout.Succeeded},
		{name: "command exits 3", jobPath: oneChunk("exit", "sh -c 'exit 3'"), status: 500, kind: worker.KindFailed, want: fanout.CommandFailed},
		{name: "chunk timeout", jobPath: oneChunk("slow", "sleep 7207.5"), cfg: func(c *worker.Config) { c.ChunkTimeout = 200 * time.Millisecond },
			status: 500, kind: worker.KindTimeout, want: fanout.CommandFailed},
		{name: "output missing", jobPath: oneChunk("missing", "true"), cfg: func(c *worker.Config) { c.OutputURL = "file://" + out },
			status: 500, kind: worker.KindOutput, want: fanout.Permanent},
		{name: "chunk not found", jobPath: oneChunk("nine", "true"), chunk: 9, status: 500, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec with a key twice", jobPath: write("twice.json", `{"id":"j","id":"k","chunks":[{"id":0,"command":"true"}]}`),
			status: 400, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec with a key in another case", jobPath: write("case.json", `{"id":"j","Chunks":[],"chunks":[{"id":0,"command":"true"}]}`),
			status: 400, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec with two chunks of one id", jobPath: write("same.json", `{"id":"j","chunks":[{"id":0,"command":"true"},{"id":0,"command":"true"}]}`),
			status: 400, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec without chunks", jobPath: write("nochunks.json", `{"id":"j"}`), status: 500, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec not JSON", jobPath: write("broken.json", `{`), status: 500, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "spec not found", jobPath: filepath.Join(dir, "none.json"), status: 500, kind: worker.KindStore, want: fanout.Transient},
		{name: "spec a folder", jobPath: dir, status: 500, kind: worker.KindSpec, want: fanout.Permanent},
		{name: "jobPath not allowed", jobPath: oneChunk("refused", "true"),
			cfg: func(c *worker.Config) { c.AllowedJobPaths = []string{"s3://jobs/"} }, status: 403, kind: worker.KindNotAllowed, want: fanout.Permanent},
		{name: "executable not found", jobPath: oneChunk("noexec", "helios-no-such-renderer-5e1b --frames 10"),
			status: 500, kind: worker.KindCommand, want: fanout.Permanent},
		{name: "empty command", jobPath: oneChunk("empty", " "), status: 500, kind: worker.KindCommand, want: fanout.Permanent},
		{name: "worker misconfigured", jobPath: oneChunk("config", "true"), cfg: func(c *worker.Config) { c.OutputLimit = -1 },
			status: 500, kind: worker.KindConfig, want: fanout.Permanent},
		{name: "no jobPath", payload: `{"chunkIndex":0}`, status: 400, kind: worker.KindPayload, want: fanout.Permanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := worker.DefaultConfig()
			cfg.WorkspaceRoot = t.TempDir()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
			req := jobspec.Request{JobPath: tc.jobPath, ChunkIndex: tc.chunk}
			payload := tc.payload
			if payload == "" {
				data, err := json.Marshal(req)
				if err != nil {
					t.Fatal(err)
				}
				payload = string(data)
			}
			answers := map[string]*worker.CallResult{}

			local, err := fanout.Local{Worker: w}.Call(t.Context(), req)
			if err != nil {
				t.Fatalf("local: %v", err)
			}
			answers["local"] = local

			wire, err := awslambda.NewHandler(w).Invoke(t.Context(), []byte(payload))
			if err != nil {
				t.Fatalf("lambda: %v", err)
			}
			if answers["lambda"], err = lambdacaller.Parse(wire); err != nil {
				t.Fatalf("lambda: %v", err)
			}

			rec := httptest.NewRecorder()
			cloudrun.NewHandler(w, "").ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(payload)))
			if answers["cloudrun"], err = runcaller.Parse(rec.Code, rec.Body.Bytes()); err != nil {
				t.Fatalf("cloudrun: %v", err)
			}

			if tc.payload == "" {
				if got := w.Run(t.Context(), req).Status(); got != tc.status {
					t.Errorf("Result.Status() = %d, want %d", got, tc.status)
				}
			}
			for _, who := range []string{"local", "lambda", "cloudrun"} {
				c := answers[who]
				if c.StatusCode != tc.status || c.ErrorKind != string(tc.kind) {
					t.Errorf("%s: status %d, errorKind %q; want %d, %q (message %q)", who, c.StatusCode, c.ErrorKind, tc.status, tc.kind, c.Message)
				}
				if c.HasExitCode != local.HasExitCode || c.ExitCode != local.ExitCode {
					t.Errorf("%s: exit code %d (%v), local %d (%v)", who, c.ExitCode, c.HasExitCode, local.ExitCode, local.HasExitCode)
				}
				// A payload refused is worded by each platform; a
				// Result the same on all three.
				if tc.payload == "" && c.Message != local.Message {
					t.Errorf("%s: message %q, local %q", who, c.Message, local.Message)
				}
				if got, why := fanout.Classify(t.Context(), c, nil); got != tc.want {
					t.Errorf("%s: classify = %v (%s), want %v", who, got, why, tc.want)
				}
				if _, known := fanout.KindOutcome(worker.Kind(c.ErrorKind), c.HasExitCode); !c.OK() && !known {
					t.Errorf("%s: a failure of kind %q, which the runner would judge by its text", who, c.ErrorKind)
				}
			}
		})
	}
}

// CallResultOf's status is Result.Status, for Results that a test can
// only make: they must agree with the platforms' as the live ones do.
func TestCallResultOfStatus(t *testing.T) {
	_, ambiguous := jobspec.Parse([]byte(`{"id":"j","id":"k","chunks":[]}`))
	for _, r := range []*worker.Result{
		{Started: true},
		{Started: true, ExitCode: 3},
		{Started: true, ExitCode: -1, Err: fmt.Errorf("chunk 0: %w for 300 s; killed", worker.ErrIdle)},
		{Started: true, ExitCode: -1, Err: worker.ErrCanceled},
		{Started: true, Err: fmt.Errorf("uploading x: %w", store.ErrAccessDenied)},
		{Err: fmt.Errorf("%w: assets took longer than 5m", worker.ErrTimeout)},
		{Err: fmt.Errorf("job path %q: %w", "x", worker.ErrJobPathNotAllowed)},
		{Err: ambiguous},
		{Err: jobspec.ErrChunkIndexRange},
		{Err: errors.New("reading job spec: connection reset by peer")},
	} {
		c := fanout.CallResultOf(r)
		if c.StatusCode != r.Status() || c.ErrorKind != string(r.Kind()) {
			t.Errorf("CallResultOf(%q): status %d, errorKind %q; Result says %d, %q",
				r.Message(), c.StatusCode, c.ErrorKind, r.Status(), r.Kind())
		}
	}
}
