package cloudrun_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

const (
	msgMethod  = "Method Not Allowed"
	msgJSON    = "Invalid JSON payload"
	msgMissing = "Missing jobPath or chunkIndex"
)

// TestHTTPTable walks the contract's "Google Cloud Run (HTTP)" table, row
// by row, over HTTP and through runcaller.
func TestHTTPTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(t))
	job := e.spec(t,
		`sh -c 'echo out; echo err >&2'`,
		`sh -c 'echo out; echo err >&2; exit 3'`,
		`helios-no-such-command-7f3a`,
		`sh -c 'echo out; kill -KILL $$'`,
	)
	big := `{"jobPath":"` + strings.Repeat("x", int(e.cfg.BodyLimit)) + `","chunkIndex":0}`

	rows := []struct {
		name, method, body string
		status             int
		msg                string   // exact; "*" any non-empty; "" none
		keys               []string // exact set of body keys (durationMs and errorKind aside)
		kind               worker.Kind
		exit               int
		stdout, stderr     string
		call               *jobspec.Request // also sent through runcaller
	}{
		{name: "exit 0", method: "POST", body: payload(job, 0), status: 200,
			keys: []string{"exitCode", "stderr", "stdout"}, stdout: "out\n", stderr: "err\n",
			call: &jobspec.Request{JobPath: job, ChunkIndex: 0}},
		{name: "exit 3", method: "POST", body: payload(job, 1), status: 500, msg: "*", kind: worker.KindFailed,
			keys: []string{"exitCode", "message", "stderr", "stdout"}, exit: 3, stdout: "out\n", stderr: "err\n",
			call: &jobspec.Request{JobPath: job, ChunkIndex: 1}},
		{name: "killed by signal", method: "POST", body: payload(job, 3), status: 500, msg: "chunk command killed by signal SIGKILL", kind: worker.KindFailed,
			keys: []string{"exitCode", "message", "stderr", "stdout"}, exit: 137, stdout: "out\n",
			call: &jobspec.Request{JobPath: job, ChunkIndex: 3}},
		{name: "GET", method: "GET", status: 405, msg: msgMethod, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "PUT", method: "PUT", body: payload(job, 0), status: 405, msg: msgMethod, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "DELETE", method: "DELETE", status: 405, msg: msgMethod, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "empty body", method: "POST", status: 400, msg: msgJSON, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "blank body", method: "POST", body: " \n\t", status: 400, msg: msgJSON, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "not JSON", method: "POST", body: "jobPath=x&chunkIndex=0", status: 400, msg: msgJSON, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "truncated JSON", method: "POST", body: `{"jobPath":"x",`, status: 400, msg: msgJSON, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "JSON array", method: "POST", body: `[{"jobPath":"x","chunkIndex":0}]`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "JSON string", method: "POST", body: `"x"`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "empty object", method: "POST", body: `{}`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "no chunkIndex", method: "POST", body: `{"jobPath":"` + job + `"}`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "no jobPath", method: "POST", body: `{"chunkIndex":0}`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "jobPath number", method: "POST", body: `{"jobPath":1,"chunkIndex":0}`, status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "chunkIndex bool", method: "POST", body: payload(job, true), status: 400, msg: msgMissing, kind: worker.KindPayload, keys: []string{"message"}},
		{name: "body over the limit", method: "POST", body: big, status: 413, msg: "*", kind: worker.KindPayload, keys: []string{"message"}},
		{name: "could not run", method: "POST", body: payload(job, 2), status: 500, msg: "*", keys: []string{"message"}, kind: worker.KindCommand,
			call: &jobspec.Request{JobPath: job, ChunkIndex: 2}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := e.do(t, row.method, row.body)
			r.check(t, row.status, row.msg)
			keys := slices.DeleteFunc(r.keys(), func(k string) bool { return k == "durationMs" || k == "renderer" })
			if !slices.Equal(keys, row.keys) {
				t.Errorf("body keys %v, want %v; body %s", keys, row.keys, r.raw)
			}
			if got := worker.Kind(r.str(t, "errorKind")); got != row.kind {
				t.Errorf("errorKind %q, want %q", got, row.kind)
			}
			if row.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", r.header.Get("Allow"))
			}
			if slices.Contains(row.keys, "exitCode") {
				if got := r.exitCode(t); got != row.exit {
					t.Errorf("exitCode %d, want %d", got, row.exit)
				}
				if got := r.str(t, "stdout"); got != row.stdout {
					t.Errorf("stdout %q, want %q", got, row.stdout)
				}
				if got := r.str(t, "stderr"); got != row.stderr {
					t.Errorf("stderr %q, want %q", got, row.stderr)
				}
			}
			// The caller's reading of the same answer.
			res, err := runcaller.Parse(r.status, r.raw)
			if err != nil {
				t.Fatalf("runcaller.Parse: %v", err)
			}
			if res.OK() != (row.status == 200) || (row.msg != "*" && res.Message != row.msg) || res.ErrorKind != string(row.kind) {
				t.Errorf("runcaller.Parse = %+v", res)
			}
			if row.call == nil {
				return
			}
			got, err := e.caller.Call(testdeadline.Context(t), *row.call)
			if err != nil {
				t.Fatalf("Caller.Call: %v", err)
			}
			want := *res
			if got.StatusCode != want.StatusCode || got.HasExitCode != want.HasExitCode || got.ExitCode != want.ExitCode ||
				got.Stdout != want.Stdout || got.Stderr != want.Stderr || got.Message != want.Message || got.ErrorKind != want.ErrorKind {
				t.Errorf("Caller.Call = %+v, want %+v", got, want)
			}
		})
	}
	e.good(t)
}

// TestBadInput sends bad invocations, each answered per the contract,
// and checks that a good one is still served after each.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.SpecTimeout = 500 * time.Millisecond
	e := newEnv(t, cfg)
	job := e.spec(t, "true")

	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers, until the client or the test gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(release) })

	noChunks := e.rawSpec(t, `{"id":"j","metadata":{}}`)
	twice := e.rawSpec(t, `{"chunks":[{"id":0,"command":"true","command":"false"}]}`)
	folded := e.rawSpec(t, `{"Chunks":[{"id":0,"command":"true"}]}`)
	sameID := e.rawSpec(t, `{"chunks":[{"id":0,"command":"true"},{"id":0,"command":"false"}]}`)
	chunksObject := e.rawSpec(t, `{"id":"j","chunks":{"0":{"command":"true"}}}`)
	bad := e.spec(t, "", "helios-no-such-command-7f3a", `sh -c 'unterminated`)
	fifo := filepath.Join(e.dir, "spec.fifo") // opening it would wait for a writer
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}

	rows := []struct {
		name, body string
		status     int
		msg        string // exact, or "*" for any, or a prefix ending in "…"
	}{
		{"chunkIndex string", payload(job, "0"), 400, msgMissing},
		{"chunkIndex fraction", `{"jobPath":"` + job + `","chunkIndex":1.5}`, 400, msgMissing},
		{"chunkIndex negative", payload(job, -1), 400, msgMissing},
		{"chunkIndex null", payload(job, nil), 400, msgMissing},
		{"chunkIndex 1e400", `{"jobPath":"` + job + `","chunkIndex":1e400}`, 400, "Invalid payload: chunkIndex is out of range"},
		{"chunkIndex 2^63", `{"jobPath":"` + job + `","chunkIndex":9223372036854775808}`, 400, "Invalid payload: chunkIndex is out of range"},
		{"attempt 0", `{"jobPath":"` + job + `","chunkIndex":0,"attempt":0}`, 400, "Invalid payload: attempt must be an integer from 1 to 1000"},
		{"jobPath twice", `{"jobPath":"` + job + `","chunkIndex":0,"jobPath":"/other.json"}`, 400, `Invalid payload: ambiguous JSON: key "jobPath" appears twice`},
		{"JobPath", `{"JobPath":"` + job + `","chunkIndex":0}`, 400, `Invalid payload: ambiguous JSON: key "JobPath" is not "jobPath" (keys are case-sensitive)`},
		{"spec with a key twice", payload(twice, 0), 400, `decoding job spec: ambiguous JSON: key "command" appears twice in chunks[0]`},
		{"spec with Chunks", payload(folded, 0), 400, `decoding job spec: ambiguous JSON: key "Chunks" is not "chunks" (keys are case-sensitive)`},
		{"spec with two chunks of one id", payload(sameID, 0), 400, `decoding job spec: ambiguous JSON: chunks[0] and chunks[1] both have id 0`},
		{"body array", `[]`, 400, msgMissing},
		{"body empty", "", 400, msgJSON},
		{"body over the limit", strings.Repeat(" ", int(cfg.BodyLimit)) + payload(job, 0), 413, "*"},
		{"jobPath empty", payload("", 0), 400, msgMissing},
		{"jobPath missing file", payload(e.dir+"/nope.json", 0), 500, "*"},
		{"jobPath FIFO", payload(fifo, 0), 500, "reading job spec " + fifo + ": " + fifo + " is not a regular file (a FIFO)"},
		{"jobPath file:// FIFO", payload("file://"+fifo, 0), 500, "reading job spec file://" + fifo + ": " + fifo + " is not a regular file (a FIFO)"},
		{"jobPath folder", payload(e.dir, 0), 500, "reading job spec " + e.dir + ": " + e.dir + " is not a regular file (a folder)"},
		{"jobPath http 404", payload(notFound.URL+"/job.json", 0), 500, "*"},
		{"jobPath http silent", payload(silent.URL+"/job.json", 0), 500, "*"},
		{"jobPath unknown scheme", payload("ftp://example.invalid/job.json", 0), 500, "*"},
		{"spec not JSON", payload(e.rawSpec(t, "chunks: []"), 0), 500, "*"},
		{"spec without chunks", payload(noChunks, 0), 500, "Invalid JobSpec: missing chunks array"},
		{"spec chunks object", payload(chunksObject, 0), 500, "Invalid JobSpec: missing chunks array"},
		{"chunk id absent", payload(job, 9), 500, "Chunk with ID 9 not found in job spec"},
		{"chunk id 1.0e1 absent", `{"jobPath":"` + job + `","chunkIndex":1.0e1}`, 500, "Chunk with ID 10 not found in job spec"},
		{"command empty", payload(bad, 0), 500, "*"},
		{"command not found", payload(bad, 1), 500, "*"},
		{"command unterminated quote", payload(bad, 2), 500, "*"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			start := time.Now()
			r := e.do(t, http.MethodPost, row.body)
			r.check(t, row.status, row.msg)
			r.onlyMessage(t)
			// The spec timeout is 500 ms; without it, a silent server or a
			// FIFO without a writer would hold the answer for ever.
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("answered after %v", d)
			}
			e.good(t)
		})
	}
	if !emptyDir(t, cfg.WorkspaceRoot) {
		t.Errorf("workspace root not empty: %v", dirNames(cfg.WorkspaceRoot))
	}
}

// TestBadInputMessages pins the reasons given for chunks that could not
// run: each names what went wrong.
func TestBadInputMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(t))
	bad := e.spec(t, "", "helios-no-such-command-7f3a")
	missing := e.dir + "/nope.json"
	for body, want := range map[string]string{
		payload(bad, 0):     "empty command",
		payload(bad, 1):     "helios-no-such-command-7f3a",
		payload(missing, 0): missing,
	} {
		r := e.do(t, http.MethodPost, body)
		if msg := r.str(t, "message"); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q does not name %q", body, msg, want)
		}
	}
}

// TestStalledBody: a client that sends half its body (Content-Length 100,
// then 10 bytes, then nothing) holds only its own connection: requests on
// other connections are answered meanwhile.
func TestStalledBody(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BodyTimeout = time.Minute // how long the stalled request holds
	e := newEnv(t, cfg)
	conn := stallBody(t, e)
	defer conn.Close()
	for range 3 {
		start := time.Now()
		e.good(t)
		// Waiting for the stalled request would take a minute.
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("good request took %v beside a stalled one", d)
		}
	}
}

// stallBody opens a connection and sends a request whose body stops
// after 10 of its 100 bytes.
func stallBody(t *testing.T, e *testEnv) net.Conn {
	t.Helper()
	conn, err := new(net.Dialer).DialContext(testdeadline.Context(t), "tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: 100\r\n\r\n{\"jobPath\"", e.srv.Listener.Addr())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the handler start reading
	return conn
}

// TestStalledBodyAnswered: the stalled request itself is answered 408
// once the body timeout has passed, and its connection closed.
func TestStalledBodyAnswered(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BodyTimeout = 500 * time.Millisecond
	e := newEnv(t, cfg)
	conn := stallBody(t, e)
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(testdeadline.Remaining(t)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("stalled request not answered")
		}
		t.Fatalf("reading the stalled request's answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("stalled request answered %s (%s): %s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	if !resp.Close {
		t.Error("connection kept open after an incomplete body")
	}
	e.good(t)
}
