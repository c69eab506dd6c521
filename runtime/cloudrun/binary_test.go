package cloudrun_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// The real entry point, built once for the package's tests.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	binErr    error
)

func workerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the worker binary")
	}
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		if binDir, binErr = os.MkdirTemp("", "cloudrunworker-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "cloudrunworker")
		cmd := exec.Command(gobin, "build", "-o", binPath,
			"github.com/helios-project/helios-scaffold/internal/cmd/cloudrunworker")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building cloudrunworker: %v", binErr)
	}
	return binPath
}

func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// workerProc is a running cloudrunworker.
type workerProc struct {
	cmd            *exec.Cmd
	addr           string // 127.0.0.1:PORT
	root           string // HELIOS_WORKSPACE_ROOT
	stdout, stderr syncbuf.Buffer
	done           chan struct{} // closed when the process has exited
	waitErr        error
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// workerEnv is the test's environment without the variables that would
// change the worker's behaviour, plus vars.
func workerEnv(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PORT" || strings.HasPrefix(k, "HELIOS_") || strings.HasPrefix(k, "K_") || k == "GOOGLE_CLOUD_PROJECT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, vars...)
}

// startWorker runs the binary with PORT on a free port and the given
// extra environment, and waits until it accepts connections.
func startWorker(t *testing.T, vars ...string) *workerProc {
	t.Helper()
	bin := workerBinary(t)
	p := &workerProc{root: t.TempDir(), done: make(chan struct{})}
	port := freePort(t)
	p.addr = "127.0.0.1:" + port
	p.cmd = exec.Command(bin)
	p.cmd.Env = workerEnv(append([]string{"PORT=" + port, "HELIOS_WORKSPACE_ROOT=" + p.root}, vars...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	ok := waitFor(t, func() bool {
		select {
		case <-p.done:
			return true
		default:
		}
		return accepts(p.addr)
	})
	select {
	case <-p.done:
		t.Fatalf("worker exited at start (%v); stderr:\n%s", p.waitErr, p.stderr.String())
	default:
	}
	if !ok {
		t.Fatalf("worker not listening on %s; stderr:\n%s", p.addr, p.stderr.String())
	}
	return p
}

// accepts reports whether a connection to addr was accepted. A dial that
// takes over a second counts as not accepted: callers poll.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// refuses reports whether a connection to addr was refused.
func refuses(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// waitExit waits for the process to exit and returns its status.
func (p *workerProc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-testdeadline.After(t):
		t.Fatalf("worker still running; stdout:\n%s", p.stdout.String())
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode()
	}
	if p.waitErr != nil {
		t.Fatalf("waiting for the worker: %v", p.waitErr)
	}
	return 0
}

// checkStdout asserts that every line of standard output is a JSON object
// with severity and message, except the chunk's own lines.
func (p *workerProc) checkStdout(t *testing.T, chunkLines ...string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimRight(p.stdout.String(), "\n"), "\n") {
		if l == "" || contains(chunkLines, l) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["severity"] == nil || m["message"] == nil {
			t.Errorf("stdout line is not a Cloud Logging JSON line: %q", l)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// specFile writes a one-chunk job spec running cmd into dir.
func specFile(t *testing.T, dir, cmd string) string {
	t.Helper()
	path := filepath.Join(dir, "job.json")
	b, _ := json.Marshal(map[string]any{"id": "bin", "chunks": []any{map[string]any{"id": 0, "command": cmd}}})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// postAsync posts body to the worker and delivers the answer on the
// channel, within t's deadline.
func postAsync(t testing.TB, addr, body string) <-chan replyOrErr {
	ch := make(chan replyOrErr, 1)
	go func() {
		r, err := doRequest(t, http.DefaultClient, "http://"+addr+"/", http.MethodPost, body)
		ch <- replyOrErr{r, err}
	}()
	return ch
}

type replyOrErr struct {
	reply
	err error
}

// TestBinaryGracefulShutdown: SIGTERM lets a running chunk finish, refuses
// new connections, and exits 0 within the grace period.
func TestBinaryGracefulShutdown(t *testing.T) {
	t.Parallel()
	const grace = 4 * time.Second
	p := startWorker(t, "HELIOS_SHUTDOWN_GRACE="+grace.String())
	if r, err := doRequest(t, http.DefaultClient, "http://"+p.addr+"/", http.MethodGet, ""); err != nil || r.status != 405 {
		t.Errorf("GET: %v %d", err, r.status)
	}
	// SIGTERM comes during the chunk's sleep of about 2 s (a duration no
	// other test sleeps): it ends well within the grace.
	ans := postAsync(t, p.addr, payload(specFile(t, t.TempDir(), `sh -c 'echo started; sleep 2.02; echo finished'`), 0))
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "2.02")) > 0 }) {
		t.Fatalf("chunk did not start; stdout:\n%s", p.stdout.String())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()
	// Connections are refused while the chunk still runs, not only once
	// the worker has exited.
	if !waitFor(t, func() bool { return refuses(p.addr) }) {
		t.Error("new connections still accepted during shutdown")
	} else if len(procsWithArgs("sleep", "2.02")) == 0 {
		t.Error("new connections accepted until the running chunk had finished")
	}

	var a replyOrErr
	select {
	case a = <-ans:
	case <-testdeadline.After(t):
		t.Fatal("in-flight request not answered")
	}
	if a.err != nil {
		t.Fatalf("in-flight request: %v", a.err)
	}
	a.check(t, http.StatusOK, "")
	if got := a.str(t, "stdout"); got != "started\nfinished\n" {
		t.Errorf("stdout %q, want started and finished", got)
	}
	if code := p.waitExit(t); code != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	// Exiting within the grace is the property; grace+slack is still
	// before Cloud Run's SIGKILL, 10 s after SIGTERM.
	if d := time.Since(termAt); d > grace+slack {
		t.Errorf("exited %v after SIGTERM, grace is %v", d, grace)
	}
	if accepts(p.addr) {
		t.Error("a connection was accepted after exit")
	}
	if !emptyDir(t, p.root) {
		t.Errorf("workspace root not empty: %v", dirNames(p.root))
	}
	p.checkStdout(t, "started", "finished")
	if out := p.stdout.String(); !strings.Contains(out, `"severity":"INFO"`) {
		t.Errorf("no INFO log line on stdout:\n%s", out)
	}
}

// TestBinaryShutdownCancels: a chunk still running when the grace period
// ends is killed and answered with exitCode -1, and the worker exits 0.
func TestBinaryShutdownCancels(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	p := startWorker(t, "HELIOS_SHUTDOWN_GRACE="+grace.String())
	ans := postAsync(t, p.addr, payload(specFile(t, t.TempDir(), `sh -c 'echo started; sleep 43'`), 0))
	if !waitFor(t, func() bool { return strings.Contains(p.stdout.String(), "started\n") }) {
		t.Fatal("chunk did not start")
	}
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "43")) > 0 }) { // sh starts it after the echo
		t.Error("no sleep 43 process while the chunk runs")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()

	var a replyOrErr
	select {
	case a = <-ans:
	case <-testdeadline.After(t):
		t.Fatal("in-flight request not answered")
	}
	if a.err != nil {
		t.Fatalf("in-flight request: %v", a.err)
	}
	a.check(t, http.StatusInternalServerError, "*")
	if code := a.exitCode(t); code != -1 {
		t.Errorf("exitCode %d, want -1", code)
	}
	if got := a.str(t, "stdout"); got != "started\n" {
		t.Errorf("stdout %q, want started", got)
	}
	if code := p.waitExit(t); code != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	// Exiting within the grace and the cancel grace is the property; with
	// the slack, that is still far from the chunk's 43 s and before Cloud
	// Run's SIGKILL, 10 s after SIGTERM.
	if d := time.Since(termAt); d > grace+cancelGrace+slack {
		t.Errorf("exited %v after SIGTERM with a %v grace", d, grace)
	}
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "43")) == 0 }) {
		t.Errorf("sleep 43 left running: pids %v", procsWithArgs("sleep", "43"))
	}
	if !emptyDir(t, p.root) {
		t.Errorf("workspace root not empty: %v", dirNames(p.root))
	}
	p.checkStdout(t, "started")
}

// TestBinaryInvalidConfig: a malformed setting stops the worker at start
// with a message naming the variable.
func TestBinaryInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kv, name string }{
		{"HELIOS_OUTPUT_LIMIT=abc", "HELIOS_OUTPUT_LIMIT"},
		{"HELIOS_SHUTDOWN_GRACE=soon", "HELIOS_SHUTDOWN_GRACE"},
		// Out of range: refused, naming the variable.
		{"HELIOS_SHUTDOWN_GRACE=10s", "HELIOS_SHUTDOWN_GRACE"},
		{"HELIOS_BODY_LIMIT=0", "HELIOS_BODY_LIMIT"},
	} {
		bin := workerBinary(t)
		cmd := exec.Command(bin)
		cmd.Env = workerEnv("PORT="+freePort(t), "HELIOS_WORKSPACE_ROOT="+t.TempDir(), c.kv)
		var stderr syncbuf.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-testdeadline.After(t):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s: worker still running, not stopped by its configuration", c.kv)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%s: exit %v, want a non-zero status", c.kv, err)
		}
		if !strings.Contains(stderr.String(), c.name) {
			t.Errorf("%s: stderr does not name %s:\n%s", c.kv, c.name, stderr.String())
		}
	}
}

// TestBinaryLogLinesIntact: chunk output passed through to standard output
// does not break the worker's own JSON log lines, even when the chunk
// does not end its output with a newline.
func TestBinaryLogLinesIntact(t *testing.T) {
	t.Parallel()
	p := startWorker(t, "HELIOS_SHUTDOWN_GRACE=1s")
	a := <-postAsync(t, p.addr, payload(specFile(t, t.TempDir(), `printf no-newline`), 0))
	if a.err != nil {
		t.Fatal(a.err)
	}
	a.check(t, http.StatusOK, "")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t); code != 0 {
		t.Errorf("exit status %d", code)
	}
	p.checkStdout(t, "no-newline")
}
