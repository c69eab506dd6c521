package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func TestRunSuccess(t *testing.T) {
	cfg := testConfig(t)
	r := runChunk(t, cfg, `sh -c 'echo out; echo err >&2'`)
	if !r.OK() || !r.Started || r.Err != nil || r.ExitCode != 0 || r.Signal != "" || r.Message() != "" {
		t.Fatalf("Run = %+v (message %q), want success", r, r.Message())
	}
	if string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" {
		t.Errorf("Stdout %q, Stderr %q; want \"out\\n\", \"err\\n\"", r.Stdout, r.Stderr)
	}
	if r.StdoutBytes != 4 || r.StderrBytes != 4 || r.StdoutTruncated || r.StderrTruncated {
		t.Errorf("counts %d/%d, truncated %v/%v", r.StdoutBytes, r.StderrBytes, r.StdoutTruncated, r.StderrTruncated)
	}
	if r.Duration <= 0 {
		t.Errorf("Duration = %v", r.Duration)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

func TestRunExitCode(t *testing.T) {
	cfg := testConfig(t)
	r := runChunk(t, cfg, `sh -c 'echo hi; echo oops >&2; exit 3'`)
	if r.OK() || !r.Started || r.Err != nil || r.ExitCode != 3 || r.Signal != "" {
		t.Fatalf("Run = %+v, want a started chunk that exited 3", r)
	}
	if got := r.Message(); got != "chunk command exited with code 3" {
		t.Errorf("Message() = %q", got)
	}
	if string(r.Stdout) != "hi\n" || string(r.Stderr) != "oops\n" {
		t.Errorf("Stdout %q, Stderr %q", r.Stdout, r.Stderr)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

func TestRunPassthrough(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := testConfig(t)
		cfg.Passthrough = on
		var out, errOut bytes.Buffer
		w := newWorker(cfg, worker.WithPassthrough(&out, &errOut))
		r := w.Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, oneChunk(`sh -c 'echo live; echo log >&2'`))})
		if !r.OK() || string(r.Stdout) != "live\n" || string(r.Stderr) != "log\n" {
			t.Fatalf("Passthrough %v: Run = %+v", on, r)
		}
		want, wantErr := "live\n", "log\n"
		if !on {
			want, wantErr = "", ""
		}
		if out.String() != want || errOut.String() != wantErr {
			t.Errorf("Passthrough %v: passed through %q and %q", on, out.String(), errOut.String())
		}
	}
}

func TestRunEnv(t *testing.T) {
	t.Setenv("WORKER_TEST_INHERITED", "inherited value")
	t.Setenv("HELIOS_JOB_ID", "stale") // the chunk's own value wins
	cfg := testConfig(t)
	spec := jobspec.Spec{ID: "job-42", Chunks: []jobspec.Chunk{
		{ID: 0, Command: "false"},
		{ID: 4, StartFrame: 600, FrameCount: 150, OutputFile: "chunk_4.mp4", Command: `sh -c 'printf "%s\n" ` +
			`"$HELIOS_JOB_ID" "$HELIOS_CHUNK_ID" "$HELIOS_START_FRAME" "$HELIOS_FRAME_COUNT" ` +
			`"$HELIOS_OUTPUT_FILE" "$HELIOS_WORKSPACE" "$(pwd)" "$WORKER_TEST_INHERITED"'`},
	}}
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec), ChunkIndex: 4})
	if !r.OK() {
		t.Fatalf("Run = %+v (stderr %q)", r, r.Stderr)
	}
	got := strings.Split(strings.TrimSuffix(string(r.Stdout), "\n"), "\n")
	if len(got) != 8 {
		t.Fatalf("chunk printed %q", r.Stdout)
	}
	ws := got[5]
	want := []string{"job-42", "4", "600", "150", "chunk_4.mp4", ws, ws, "inherited value"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if base := filepath.Dir(ws); filepath.Base(ws) != "work" || filepath.Dir(base) != cfg.WorkspaceRoot || !strings.HasPrefix(filepath.Base(base), "helios-job-42-4-") {
		t.Errorf("workspace %s is not work in a helios-job-42-4-* directory right below %s", ws, cfg.WorkspaceRoot)
	}
	if _, err := os.Stat(ws); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("workspace %s still there: %v", ws, err)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// A command run without a shell sees PWD, which tools read for their
// working directory; it should be the workspace, not the worker's.
func TestRunEnvPWD(t *testing.T) {
	t.Setenv("PWD", t.TempDir())
	cfg := testConfig(t)
	r := runChunk(t, cfg, "env")
	if !r.OK() {
		t.Fatalf("Run = %+v", r)
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(r.Stdout)) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		vars[k] = v
	}
	if vars["PWD"] != vars["HELIOS_WORKSPACE"] {
		t.Errorf("PWD=%q, want the workspace %q", vars["PWD"], vars["HELIOS_WORKSPACE"])
	}
}

func TestRunWorkspaceName(t *testing.T) {
	for id, prefix := range map[string]string{
		"../../x y":              "helios-______x_y-3-",
		"":                       "helios-spec-3-", // no id: named after spec.json
		strings.Repeat("é", 50):  "helios-" + strings.Repeat("_", 10) + "-3-",
		"A-b_9/..\\\t\n":         "helios-A-b_9_____-3-",
		strings.Repeat("ab", 30): "helios-" + strings.Repeat("ab", 5) + "-3-",
	} {
		cfg := testConfig(t)
		spec := jobspec.Spec{ID: id, Chunks: []jobspec.Chunk{{ID: 3, Command: `sh -c 'echo "$HELIOS_WORKSPACE"'`}}}
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec), ChunkIndex: 3})
		ws := filepath.Dir(strings.TrimSpace(string(r.Stdout)))
		if !r.OK() || filepath.Dir(ws) != cfg.WorkspaceRoot || !strings.HasPrefix(filepath.Base(ws), prefix) {
			t.Errorf("job id %q: workspace %q (result %+v), want %s* below %s", id, ws, r, prefix, cfg.WorkspaceRoot)
		}
		assertEmptyDir(t, cfg.WorkspaceRoot)
	}
}

func TestRunRemovesWorkspace(t *testing.T) {
	tests := []struct {
		name, command string
		timeout       time.Duration
		assets        string
		check         func(*worker.Result) bool
	}{
		{name: "success", command: `sh -c 'echo x > f; mkdir -p d/e; touch d/e/g .hidden'`,
			check: (*worker.Result).OK},
		{name: "failure", command: `sh -c 'touch f; exit 1'`,
			check: func(r *worker.Result) bool { return r.ExitCode == 1 }},
		{name: "signal", command: `sh -c 'touch f; kill -9 $$'`,
			check: func(r *worker.Result) bool { return r.Signal == "SIGKILL" }},
		{name: "timeout", command: `sh -c 'touch f; sleep 40'`, timeout: 300 * time.Millisecond,
			check: func(r *worker.Result) bool { return errors.Is(r.Err, worker.ErrTimeout) }},
		{name: "read-only directories",
			command: `sh -c 'mkdir -p ro/sub && touch ro/sub/f && chmod 555 ro/sub && chmod 0 ro && chmod 555 .'`,
			check:   (*worker.Result).OK},
		{name: "command not found", command: "helios-no-such-command-7f3a",
			check: func(r *worker.Result) bool { return !r.Started && r.Err != nil }},
		{name: "assets missing", command: "true", assets: "/nonexistent/helios/assets",
			check: func(r *worker.Result) bool { return !r.Started && r.Err != nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.ChunkTimeout = tc.timeout
			spec := oneChunk(tc.command)
			spec.AssetsURL = tc.assets
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec)})
			if !tc.check(r) {
				t.Errorf("Run = %+v (message %q)", r, r.Message())
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

func TestRunCannotStart(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.txt")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		command string
		err     error
	}{
		"not found":      {"helios-no-such-command-7f3a --flag", exec.ErrNotFound},
		"missing path":   {filepath.Join(dir, "missing") + " arg", fs.ErrNotExist},
		"not executable": {notExec, fs.ErrPermission},
		"directory":      {dir, fs.ErrPermission},
		"empty":          {"", jobspec.ErrEmptyCommand},
		"blank":          {" \t\n", jobspec.ErrEmptyCommand},
		"unterminated":   {"echo 'x", jobspec.ErrUnterminated},
		"trailing \\":    {`echo x\`, jobspec.ErrTrailingBackslash},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			r := runChunk(t, cfg, tc.command)
			if r.Started || r.OK() || !errors.Is(r.Err, tc.err) {
				t.Fatalf("Run(%q) = %+v, want not started with %v", tc.command, r, tc.err)
			}
			if r.Message() == "" || r.Message() != r.Err.Error() {
				t.Errorf("Message() = %q", r.Message())
			}
			if len(r.Stdout) != 0 || len(r.Stderr) != 0 || r.Signal != "" {
				t.Errorf("not started but Stdout %q, Stderr %q, Signal %q", r.Stdout, r.Stderr, r.Signal)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

func TestRunChunkNotFound(t *testing.T) {
	cfg := testConfig(t)
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, oneChunk("true")), ChunkIndex: 9})
	if r.Started || !errors.Is(r.Err, jobspec.ErrChunkNotFound) {
		t.Fatalf("Run = %+v, want ErrChunkNotFound", r)
	}
	if got := r.Message(); got != "Chunk with ID 9 not found in job spec" {
		t.Errorf("Message() = %q", got)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

func TestRunBadSpec(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, tc := range map[string]struct {
		path string
		err  error
	}{
		"missing file":   {filepath.Join(dir, "nope.json"), fs.ErrNotExist},
		"missing chunks": {write("nochunks.json", `{"id":"j"}`), jobspec.ErrMissingChunks},
		"not JSON":       {write("bad.json", `{"chunks":[`), nil},
		"empty jobPath":  {"", jobspec.ErrPayloadFields},
		"directory":      {dir, nil},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: tc.path})
			if r.Started || r.Err == nil || tc.err != nil && !errors.Is(r.Err, tc.err) {
				t.Fatalf("Run = %+v, want not started with %v", r, tc.err)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

func TestRunSpecFileURL(t *testing.T) {
	cfg := testConfig(t)
	path := writeSpec(t, oneChunk("echo via-url"))
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: "file://" + path})
	if !r.OK() || string(r.Stdout) != "via-url\n" {
		t.Fatalf("Run = %+v", r)
	}
	t.Run("upper-case scheme", func(t *testing.T) {
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: "FILE://" + path})
		if !r.OK() {
			t.Fatalf("Run = %+v", r)
		}
	})
}

func TestRunSpecTooLarge(t *testing.T) {
	data := marshalSpec(t, oneChunk("echo fits"))
	path := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.SpecMaxBytes = int64(len(data))
	if r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: path}); !r.OK() {
		t.Errorf("a spec of exactly SpecMaxBytes: Run = %+v", r)
	}
	cfg.SpecMaxBytes--
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: path})
	if r.Started || !errors.Is(r.Err, store.ErrTooLarge) {
		t.Errorf("a spec one byte over SpecMaxBytes: Run = %+v, want ErrTooLarge", r)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)

	t.Run("no limit", func(t *testing.T) {
		cfg.SpecMaxBytes = math.MaxInt64
		if r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: path}); !r.OK() {
			t.Errorf("SpecMaxBytes = MaxInt64: Run = %+v", r)
		}
	})
}

func TestRunAssets(t *testing.T) {
	assets := t.TempDir()
	for name, content := range map[string]string{
		"top.txt": "top", "sub/asset.txt": "asset content", "sub/deeper/x.bin": "\x00\x01",
	} {
		p := filepath.Join(assets, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, url := range map[string]string{"path": assets, "file URL": "file://" + assets} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			spec := oneChunk(`sh -c 'test -f top.txt && test -f sub/deeper/x.bin && cat sub/asset.txt'`)
			spec.AssetsURL = url
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec)})
			if !r.OK() || string(r.Stdout) != "asset content" {
				t.Errorf("Run = %+v (stderr %q), want the assets in the workspace", r, r.Stderr)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
	if _, err := os.Stat(filepath.Join(assets, "sub/asset.txt")); err != nil {
		t.Errorf("the assets folder was changed: %v", err)
	}
	t.Run("symlinked folder", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "assets-link")
		if err := os.Symlink(assets, link); err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t)
		spec := oneChunk(`sh -c 'cat sub/asset.txt'`)
		spec.AssetsURL = link
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec)})
		if !r.OK() || string(r.Stdout) != "asset content" {
			t.Errorf("Run = %+v (stderr %q), want the assets in the workspace or an error", r, r.Stderr)
		}
	})
}

// A writer that is closed fails every write; the capture must not care.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestRunPassthroughFails(t *testing.T) {
	cfg := testConfig(t)
	w := newWorker(cfg, worker.WithPassthrough(failingWriter{}, failingWriter{}))
	r := w.Run(context.Background(), jobspec.Request{JobPath: writeSpec(t, oneChunk(`sh -c 'echo a; echo b >&2'`))})
	if !r.OK() || string(r.Stdout) != "a\n" || string(r.Stderr) != "b\n" {
		t.Errorf("Run = %+v", r)
	}
}

// A chunk's TMPDIR, TMP and TEMP are inside its workspace: what it and its
// children put there, a browser profile say, goes with the workspace even
// when they are killed, and nothing lands in the worker's own temp folder.
func TestRunTempDirInWorkspace(t *testing.T) {
	sysTmp := t.TempDir()
	t.Setenv("TMPDIR", sysTmp)
	t.Setenv("TMP", sysTmp)
	t.Setenv("TEMP", sysTmp)
	cfg := testConfig(t)
	cfg.ChunkTimeout = 2 * time.Second
	// The chunk writes into $TMPDIR, starts a child that makes a temp
	// folder of its own (as a browser makes its profile), then hangs.
	cmd := `sh -c 'echo "$TMPDIR $TMP $TEMP"; mktemp -d >/dev/null; touch "$TMPDIR/scratch"; ` +
		`sh -c "mktemp -d -t profile.XXXXXX >/dev/null; exec sleep 7040" & sleep 7040'`
	killOnCleanup(t, "sleep", "7040") // hours: see assertNoProc
	r := runChunk(t, cfg, cmd)
	if !errors.Is(r.Err, worker.ErrTimeout) {
		t.Fatalf("Run = %+v, want the chunk killed for its timeout", r)
	}
	dirs := strings.Fields(string(r.Stdout))
	if len(dirs) != 3 || dirs[0] != dirs[1] || dirs[1] != dirs[2] || filepath.Dir(filepath.Dir(dirs[0])) != cfg.WorkspaceRoot {
		t.Errorf("TMPDIR TMP TEMP = %q, want one folder inside the workspace below %s", r.Stdout, cfg.WorkspaceRoot)
	}
	assertEmptyDir(t, sysTmp)
	assertEmptyDir(t, cfg.WorkspaceRoot)
	assertNoProc(t, "sleep", "7040")
}

// Chromium aborts when the path of the Unix socket it puts in TMPDIR does
// not fit in 107 bytes: with the longest job name, a six-digit chunk id and
// the longest random part, it fits below a root of 20 characters.
func TestRunTempDirFitsChromiumSocket(t *testing.T) {
	cfg := testConfig(t)
	cfg.WorkspaceRoot = "/tmp"
	spec := jobspec.Spec{ID: strings.Repeat("j", 80), Chunks: []jobspec.Chunk{{ID: 999999, Command: `sh -c 'echo "$TMPDIR"'`}}}
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec), ChunkIndex: 999999})
	tmp := strings.TrimSpace(string(r.Stdout))
	if !r.OK() || !strings.HasPrefix(tmp, "/tmp/helios-") {
		t.Fatalf("Run = %+v", r)
	}
	socket := tmp + "/org.chromium.Chromium.XXXXXX/SingletonSocket"
	random := filepath.Base(strings.TrimSuffix(tmp, "/tmp"))
	random = random[strings.LastIndex(random, "-")+1:]
	worst := len(socket) - len("/tmp") + 20 + (10 - len(random)) // os.MkdirTemp's part has up to 10 digits
	if worst > 107 {
		t.Errorf("with a root of 20 characters, Chromium's socket path could be %d bytes (%s), over 107", worst, socket)
	}
}
