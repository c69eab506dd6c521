package worker_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// outputJob writes a spec whose chunk runs command and names outputFile,
// with the spec's outputUrl set to specURL ("" for none).
func outputJob(t *testing.T, command, outputFile, specURL string) string {
	t.Helper()
	spec := oneChunk(command)
	spec.Chunks[0].OutputFile = outputFile
	spec.OutputURL = specURL
	return writeSpec(t, spec)
}

func TestOutputUploadedToFolder(t *testing.T) {
	video := bytes.Repeat([]byte("frame\x00"), 50_000)
	src := filepath.Join(t.TempDir(), "video.bin")
	if err := os.WriteFile(src, video, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, specURL, envURL, want string
		attempt                           int
	}{
		{"spec outputUrl", "chunk_0.mp4", "file://OUT/spec", "file://OUT/env", "file://OUT/spec/chunk_0.mp4", 0},
		{"HELIOS_OUTPUT_URL when the spec has none", "chunk_0.mp4", "", "file://OUT/env/", "file://OUT/env/chunk_0.mp4", 0},
		{"local folder", "chunk_0.mp4", "", "OUT/plain", "OUT/plain/chunk_0.mp4", 0},
		{"nested outputFile", "parts/./chunk_0.mp4", "file://OUT/n", "", "file://OUT/n/parts/chunk_0.mp4", 0},
		{"attempt 1 is the first", "chunk_0.mp4", "file://OUT/a", "", "file://OUT/a/chunk_0.mp4", 1},
		{"attempt 2 has its own name", "parts/chunk_0.mp4", "file://OUT/a", "", "file://OUT/a/parts/chunk_0.attempt-2.mp4", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			fix := func(s string) string { return strings.ReplaceAll(s, "OUT", out) }
			cfg := testConfig(t)
			cfg.OutputURL = fix(tc.envURL)
			cmd := `sh -c 'mkdir -p "$(dirname "$HELIOS_OUTPUT_FILE")" && cp ` + src + ` "$HELIOS_OUTPUT_FILE"'`
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: outputJob(t, cmd, tc.file, fix(tc.specURL)), Attempt: tc.attempt})
			if !r.OK() || r.OutputURL != fix(tc.want) || r.OutputBytes != int64(len(video)) {
				t.Fatalf("Run = OK %v, OutputURL %q, OutputBytes %d (message %q); want %q, %d",
					r.OK(), r.OutputURL, r.OutputBytes, r.Message(), fix(tc.want), len(video))
			}
			got, err := os.ReadFile(strings.TrimPrefix(fix(tc.want), "file://"))
			if err != nil || !bytes.Equal(got, video) {
				t.Errorf("uploaded %d bytes (%v), want the %d of the output", len(got), err, len(video))
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

func TestOutputNotUploaded(t *testing.T) {
	for name, tc := range map[string]struct{ command, url string }{
		"no output location": {`sh -c 'echo x > chunk_0.mp4'`, ""},
		"command failed":     {`sh -c 'echo x > chunk_0.mp4; exit 3'`, "s3://renders/out"},
	} {
		t.Run(name, func(t *testing.T) {
			m := newMemStore(nil)
			cfg := testConfig(t)
			cfg.OutputURL = tc.url
			r := newWorker(cfg, worker.WithSource("s3", m)).Run(t.Context(), jobspec.Request{JobPath: outputJob(t, tc.command, "chunk_0.mp4", "")})
			if r.OutputURL != "" || len(m.puts) != 0 {
				t.Errorf("Run = %+v, puts %v: want no upload", r, m.puts)
			}
		})
	}
}

// A bad outputFile or output location fails the chunk before its command
// runs, when an upload is due.
func TestOutputRefusedBeforeRunning(t *testing.T) {
	tests := []struct {
		name, file, url, want string
		is                    error
	}{
		{"climbs out", "../x.mp4", "s3://renders/out", `"../x.mp4"`, worker.ErrOutsideWorkspace},
		{"absolute", "/etc/x", "s3://renders/out", `"/etc/x"`, worker.ErrOutsideWorkspace},
		{"empty", "", "s3://renders/out", "no outputFile", nil},
		{"no store for the scheme", "chunk_0.mp4", "gs://renders/out", `"gs"`, store.ErrNoSource},
		{"store that cannot write", "chunk_0.mp4", "https://example.com/out", "not an http URL", nil},
		{"no bucket", "chunk_0.mp4", "s3:///out", "no bucket", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			m := newMemStore(nil)
			cfg := testConfig(t)
			path := outputJob(t, "touch "+marker, tc.file, tc.url)
			r := newWorker(cfg, worker.WithSource("s3", m)).Run(t.Context(), jobspec.Request{JobPath: path})
			if r.Started || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("Run = %+v, want an error naming %s", r, tc.want)
			}
			if tc.is != nil && !errors.Is(r.Err, tc.is) {
				t.Errorf("error %q does not wrap %v", r.Err, tc.is)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// After exit 0, an output that cannot be uploaded turns success into a
// failure whose message says why, with the command's exit code kept.
func TestOutputFailures(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside.mp4")
	if err := os.WriteFile(outside, []byte("not the chunk's"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, command, want string
		store               func(*memStore)
		is                  error
	}{
		{"missing", "true", "without writing its outputFile chunk_0.mp4", nil, worker.ErrOutputMissing},
		{"a directory", "mkdir chunk_0.mp4", "outputFile chunk_0.mp4 is not a regular file (a folder)", nil, store.ErrNotRegular},
		{"a FIFO", "mkfifo chunk_0.mp4", "outputFile chunk_0.mp4 is not a regular file (a FIFO)", nil, store.ErrNotRegular},
		{"over HELIOS_OUTPUT_MAX_BYTES", `sh -c 'head -c 1001 /dev/zero > chunk_0.mp4'`,
			"outputFile chunk_0.mp4 is 1001 bytes, larger than the limit of 1000 bytes (HELIOS_OUTPUT_MAX_BYTES)", nil, store.ErrTooLarge},
		{"a link out of the workspace", "ln -s " + outside + " chunk_0.mp4", "chunk_0.mp4", nil, nil},
		{"refused", `sh -c 'echo x > chunk_0.mp4'`, "uploading chunk_0.mp4 to s3://renders/out/chunk_0.mp4: access denied",
			func(m *memStore) { m.putErr = store.ErrAccessDenied }, store.ErrAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemStore(nil)
			if tc.store != nil {
				tc.store(m)
			}
			cfg := testConfig(t)
			cfg.OutputURL = "s3://renders/out"
			cfg.OutputMaxBytes = 1000
			r := newWorker(cfg, worker.WithSource("s3", m)).Run(t.Context(), jobspec.Request{JobPath: outputJob(t, tc.command, "chunk_0.mp4", "")})
			if r.OK() || !r.Started || r.ExitCode != 0 || r.OutputURL != "" || !strings.Contains(r.Message(), tc.want) {
				t.Fatalf("Run = %+v (message %q), want a failure with exit code 0 saying %q", r, r.Message(), tc.want)
			}
			if tc.is != nil && !errors.Is(r.Err, tc.is) {
				t.Errorf("error %q does not wrap %v", r.Err, tc.is)
			}
			if len(m.puts) != 0 {
				t.Errorf("stored %v", m.puts)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// The upload counts against the invocation's time: when it runs out, the
// answer says the upload ran out of time, and why.
func TestOutputUploadOutOfTime(t *testing.T) {
	m := newMemStore(nil)
	m.delay = time.Minute
	cfg := testConfig(t)
	cfg.OutputURL = "s3://renders/out"
	cause := errors.New("the invocation's deadline is near")
	// Long enough for the chunk to run first on a loaded machine; the
	// upload (held a minute) then runs out of it.
	ctx, cancel := context.WithTimeoutCause(t.Context(), 3*time.Second, cause)
	defer cancel()
	r := newWorker(cfg, worker.WithSource("s3", m)).Run(ctx, jobspec.Request{JobPath: outputJob(t, `sh -c 'echo x > chunk_0.mp4'`, "chunk_0.mp4", "")})
	if r.OK() || r.ExitCode != 0 || !strings.Contains(r.Message(), "uploading chunk_0.mp4 to s3://renders/out/chunk_0.mp4 ran out of time") ||
		!strings.Contains(r.Message(), cause.Error()) {
		t.Fatalf("Run = %+v (message %q), want the upload's timeout", r, r.Message())
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// An upload that makes no progress for HELIOS_UPLOAD_STALL_TIMEOUT is cut,
// and one whose invocation is cancelled (its client gone) says so, not
// that it ran out of time.
func TestOutputUploadStalledOrStopped(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool
		want   string
		is     error
	}{
		{"stalled", false, "uploading chunk_0.mp4 to s3://renders/out/chunk_0.mp4 stalled: nothing moved for 300ms, with 0 of 2 bytes read (HELIOS_UPLOAD_STALL_TIMEOUT)", worker.ErrTimeout},
		{"client gone", true, "uploading chunk_0.mp4 to s3://renders/out/chunk_0.mp4 stopped, with 0 of 2 bytes read: chunk cancelled: the client went away", worker.ErrCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemStore(nil)
			m.delay = time.Minute
			cfg := testConfig(t)
			cfg.OutputURL = "s3://renders/out"
			cfg.UploadStallTimeout = 300 * time.Millisecond
			ctx := t.Context()
			if tt.cancel {
				cfg.UploadStallTimeout = time.Hour
				var cancel context.CancelCauseFunc
				ctx, cancel = context.WithCancelCause(ctx)
				putting := make(chan struct{})
				m.putting = putting
				go func() {
					<-putting
					cancel(errors.New("the client went away"))
				}()
			}
			r := newWorker(cfg, worker.WithSource("s3", m)).Run(ctx, jobspec.Request{JobPath: outputJob(t, `sh -c 'printf x > chunk_0.mp4; printf y >> chunk_0.mp4'`, "chunk_0.mp4", "")})
			if r.OK() || r.ExitCode != 0 || !strings.Contains(r.Message(), tt.want) || !errors.Is(r.Err, tt.is) {
				t.Fatalf("Run = %+v (message %q), want %q", r, r.Message(), tt.want)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// A spec without an id (what helios render --emit-job writes) names the
// job after its file name.
func TestJobNamedAfterSpecFile(t *testing.T) {
	spec := jobspec.Spec{Chunks: []jobspec.Chunk{{ID: 0, Command: `sh -c 'echo "$HELIOS_JOB_ID"'`}}}
	data := marshalSpec(t, spec)
	m := newMemStore(map[string][]byte{
		"s3://renders/jobs/job-42.json":       data,
		"s3://renders/jobs/no-extension":      data,
		"s3://renders/jobs/render.v2.json":    data,
		"s3://renders/jobs/a%20b.json?x=1#yz": data,
	})
	local := filepath.Join(t.TempDir(), "intro.json")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"s3://renders/jobs/job-42.json":       "job-42",
		"s3://renders/jobs/no-extension":      "no-extension",
		"s3://renders/jobs/render.v2.json":    "render.v2",
		"s3://renders/jobs/a%20b.json?x=1#yz": "a b",
		local:                                 "intro",
		"file://" + local:                     "intro",
	} {
		r := newWorker(testConfig(t), worker.WithSource("s3", m)).Run(t.Context(), jobspec.Request{JobPath: path})
		if got := strings.TrimSpace(string(r.Stdout)); !r.OK() || got != want {
			t.Errorf("%s: HELIOS_JOB_ID=%q (%+v), want %q", path, got, r, want)
		}
	}
}
