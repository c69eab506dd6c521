package cloudrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Bounds that are themselves the property under test, such as exiting
// within a shutdown grace period, get slack for a loaded machine.
const (
	slack       = 5 * time.Second
	cancelGrace = time.Second // cloudrun's: after the grace, for cancelled chunks' answers
)

// discard is the logger of every test worker; the handler's own lines go
// to slog.Default, which TestMain points at a discarding handler too.
var discard = slog.New(slog.DiscardHandler)

func TestMain(m *testing.M) {
	slog.SetDefault(discard)
	code := m.Run()
	removeBinary()
	if jobBuild.dir != "" {
		os.RemoveAll(jobBuild.dir)
	}
	os.Exit(code)
}

// testEnv is a cloudrun handler served in-process on 127.0.0.1.
type testEnv struct {
	cfg    worker.Config
	srv    *httptest.Server
	caller *runcaller.Caller
	dir    string // holds job specs

	goodOnce sync.Once
	goodPath string
}

// testConfig is the default configuration with a fresh workspace root.
func testConfig(t testing.TB) worker.Config {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.SpecTimeout = 5 * time.Second
	return cfg
}

func newEnv(t testing.TB, cfg worker.Config) *testEnv {
	return newEnvWith(t, cfg, "", worker.WithLogger(discard))
}

// newEnvWith serves a worker made with opts (after a discarding
// passthrough) for the Google Cloud project project.
func newEnvWith(t testing.TB, cfg worker.Config, project string, opts ...worker.Option) *testEnv {
	t.Helper()
	opts = append([]worker.Option{worker.WithPassthrough(io.Discard, io.Discard)}, opts...)
	srv := httptest.NewServer(cloudrun.NewHandler(worker.New(cfg, opts...), project))
	t.Cleanup(srv.Close)
	c, err := runcaller.New(context.Background(), srv.URL, runcaller.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("runcaller.New: %v", err)
	}
	return &testEnv{cfg: cfg, srv: srv, caller: c, dir: t.TempDir()}
}

// spec writes a job spec whose chunk i runs cmds[i] and returns its path.
func (e *testEnv) spec(t testing.TB, cmds ...string) string {
	t.Helper()
	s := jobspec.Spec{ID: "job-1", Metadata: jobspec.Metadata{TotalFrames: 10, FPS: 30}}
	for i, c := range cmds {
		s.Chunks = append(s.Chunks, jobspec.Chunk{ID: int64(i), FrameCount: 1, OutputFile: "out.mp4", Command: c})
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return e.rawSpec(t, string(b))
}

// rawSpec writes doc as a job spec and returns its path.
func (e *testEnv) rawSpec(t testing.TB, doc string) string {
	t.Helper()
	f, err := os.CreateTemp(e.dir, "job-*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(doc); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// payload is an invocation body.
func payload(jobPath string, chunk any) string {
	b, _ := json.Marshal(map[string]any{"jobPath": jobPath, "chunkIndex": chunk})
	return string(b)
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]json.RawMessage // nil unless the body is a JSON object
}

// do sends method with body (no body when "") and extra header pairs.
func (e *testEnv) do(t testing.TB, method, body string, header ...string) reply {
	t.Helper()
	r, err := doRequest(t, e.srv.Client(), e.srv.URL, method, body, header...)
	if err != nil {
		t.Fatalf("%s %.60q: %v", method, body, err)
	}
	return r
}

// doRequest sends method with body to url, within t's deadline. It is
// safe to call from another goroutine than t's.
func doRequest(t testing.TB, c *http.Client, url, method, body string, header ...string) (reply, error) {
	ctx, cancel := context.WithTimeout(t.Context(), testdeadline.Remaining(t))
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// check asserts status, application/json, an errorKind in any answer but
// a 200 (and none in a 200), and (when msg is not "*") the exact message;
// "*" asks only for a non-empty message.
func (r reply) check(t testing.TB, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	ct := r.header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if r.body == nil {
		t.Fatalf("body is not a JSON object: %q", r.raw)
	}
	switch kind := r.str(t, "errorKind"); {
	case status == 200 && kind != "":
		t.Errorf("errorKind %q in a success: %s", kind, r.raw)
	case status != 200 && kind == "":
		t.Errorf("no errorKind in %s", r.raw)
	}
	got := r.str(t, "message")
	switch {
	case msg == "*" && got == "":
		t.Errorf("no message in %s", r.raw)
	case msg != "*" && got != msg:
		t.Errorf("message %q, want %q", got, msg)
	}
}

// onlyMessage asserts that the body is {"message": ...} and nothing else
// (but its errorKind, which check checks).
func (r reply) onlyMessage(t testing.TB) {
	t.Helper()
	if k := r.keys(); !slices.Equal(k, []string{"message"}) {
		t.Errorf("body keys %v, want [message]; body %s", k, r.raw)
	}
}

// keys are the body's keys, sorted, without errorKind.
func (r reply) keys() []string {
	k := make([]string, 0, len(r.body))
	for key := range r.body {
		if key != "errorKind" {
			k = append(k, key)
		}
	}
	slices.Sort(k)
	return k
}

// str is the string at key, "" when absent.
func (r reply) str(t testing.TB, key string) string {
	t.Helper()
	v, ok := r.body[key]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		t.Errorf("%s is not a string: %s", key, v)
	}
	return s
}

// exitCode is the exitCode field; it fails the test when absent.
func (r reply) exitCode(t testing.TB) int {
	t.Helper()
	v, ok := r.body["exitCode"]
	if !ok {
		t.Fatalf("no exitCode in %s", r.raw)
	}
	var n int
	if err := json.Unmarshal(v, &n); err != nil {
		t.Fatalf("exitCode is not an integer: %s", v)
	}
	return n
}

// good sends a valid invocation and asserts its success: the server is
// still serving.
func (e *testEnv) good(t testing.TB) {
	t.Helper()
	e.goodOnce.Do(func() { e.goodPath = e.spec(t, "echo ok") })
	r := e.do(t, http.MethodPost, payload(e.goodPath, 0))
	r.check(t, http.StatusOK, "")
	if got := r.str(t, "stdout"); got != "ok\n" {
		t.Errorf("good request: stdout %q, want %q", got, "ok\n")
	}
}

// waitFor polls cond every 20ms until it holds, or reports false when
// t's deadline is near: cond is something that must happen.
func waitFor(t testing.TB, cond func() bool) bool {
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// emptyDir reports whether dir has no entries.
func emptyDir(t testing.TB, dir string) bool {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return len(ents) == 0
}

func dirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// procsWithArgs lists the pids whose /proc/PID/cmdline is exactly args.
func procsWithArgs(args ...string) []string {
	want := []byte(strings.Join(args, "\x00"))
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if bytes.Equal(bytes.TrimRight(b, "\x00"), want) {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

// signalWriter closes seen the first time the text written contains want.
type signalWriter struct {
	want string
	seen chan struct{}
	once sync.Once
	buf  syncbuf.Buffer
}

func newSignalWriter(want string) *signalWriter {
	return &signalWriter{want: want, seen: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}
