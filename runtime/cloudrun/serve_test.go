package cloudrun_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// served runs ServeListener in-process on 127.0.0.1 with grace; stop
// cancels its context, and returned delivers its result.
type served struct {
	addr     string
	root     string
	stop     context.CancelFunc
	returned chan error
	env      *testEnv // for specs
}

func serveInProcess(t *testing.T, grace time.Duration) *served {
	t.Helper()
	cfg := testConfig(t)
	// A stalled body would hold its request this long, were shutdown not
	// to close its connection: far beyond the bounds checked here.
	cfg.BodyTimeout = time.Minute
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(discard))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{addr: ln.Addr().String(), root: cfg.WorkspaceRoot, stop: cancel,
		returned: make(chan error, 1), env: &testEnv{dir: t.TempDir()}}
	go func() { s.returned <- cloudrun.ServeListener(ctx, ln, cloudrun.NewHandler(w, ""), grace) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.returned:
		case <-time.After(testdeadline.Remaining(t)):
			t.Error("ServeListener did not return after its context ended")
		}
	})
	return s
}

// wait returns ServeListener's result.
func (s *served) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.returned:
		s.returned <- err // for the cleanup
		return err
	case <-testdeadline.After(t):
		t.Fatal("ServeListener still serving after its context ended")
		return nil
	}
}

func TestServeListenerFinishesRunningChunk(t *testing.T) {
	t.Parallel()
	// A grace far longer than the chunk's half second, however slow the
	// machine is to start it.
	s := serveInProcess(t, 10*time.Second)
	ans := postAsync(t, s.addr, payload(s.env.spec(t, `sh -c 'sleep 0.5; echo done'`), 0))
	if !waitFor(t, func() bool { return len(dirNames(s.root)) > 0 }) {
		t.Fatal("chunk did not start")
	}
	s.stop()
	a := <-ans
	if a.err != nil {
		t.Fatal(a.err)
	}
	a.check(t, http.StatusOK, "")
	if a.str(t, "stdout") != "done\n" {
		t.Errorf("stdout %q", a.str(t, "stdout"))
	}
	if err := s.wait(t); err != nil {
		t.Errorf("ServeListener = %v, want nil", err)
	}
	if accepts(s.addr) {
		t.Error("listener still accepting after ServeListener returned")
	}
}

func TestServeListenerCancelsAfterGrace(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	s := serveInProcess(t, grace)
	ans := postAsync(t, s.addr, payload(s.env.spec(t, `sh -c 'echo started; sleep 44'`), 0))
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "44")) > 0 }) {
		t.Fatal("chunk did not start")
	}
	stopped := time.Now()
	s.stop()
	a := <-ans
	if a.err != nil {
		t.Fatal(a.err)
	}
	a.check(t, http.StatusInternalServerError, "*")
	if a.exitCode(t) != -1 || a.str(t, "stdout") != "started\n" {
		t.Errorf("answer %s, want exitCode -1 and stdout started", a.raw)
	}
	if err := s.wait(t); err != nil {
		t.Errorf("ServeListener = %v, want nil", err)
	}
	// Returning within the grace and the cancel grace is the property; with
	// the slack, that is still far from the chunk's 44 s.
	if d := time.Since(stopped); d > grace+cancelGrace+slack {
		t.Errorf("returned %v after its context ended; grace %v", d, grace)
	}
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "44")) == 0 }) {
		t.Error("sleep 44 left running")
	}
	if !emptyDir(t, s.root) {
		t.Errorf("workspace root not empty: %v", dirNames(s.root))
	}
}

// TestServeListenerStalledClient: a client stuck in its body does not
// hold shutdown past the grace period and the cancel grace.
func TestServeListenerStalledClient(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	s := serveInProcess(t, grace)
	conn, err := new(net.Dialer).DialContext(testdeadline.Context(t), "tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jobPath\""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	stopped := time.Now()
	s.stop()
	if err := s.wait(t); err != nil {
		t.Errorf("ServeListener = %v, want nil", err)
	}
	// Returning within the grace and the cancel grace is the property; with
	// the slack, that is still far from the minute the stalled body holds.
	if d := time.Since(stopped); d > grace+cancelGrace+slack {
		t.Errorf("returned %v after its context ended; grace %v + %v", d, grace, cancelGrace)
	}
}

// TestServeInvalidConfig: Serve refuses a configuration that does not
// validate before listening. It sets slog's default, so it is not parallel.
func TestServeInvalidConfig(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	t.Setenv("HELIOS_OUTPUT_LIMIT", "abc")
	t.Setenv("PORT", freePort(t))
	err := cloudrun.Serve(testdeadline.Context(t), worker.New(worker.ConfigFromEnv()))
	if err == nil || !strings.Contains(err.Error(), "HELIOS_OUTPUT_LIMIT") {
		t.Errorf("Serve = %v, want an error naming HELIOS_OUTPUT_LIMIT", err)
	}
}

func TestProjectID(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "my-proj")
	t.Setenv("K_SERVICE", "worker")
	if got := cloudrun.ProjectID(context.Background()); got != "my-proj" {
		t.Errorf("ProjectID = %q with GOOGLE_CLOUD_PROJECT=my-proj", got)
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("K_SERVICE", "") // not on Cloud Run: no metadata lookup
	if got := cloudrun.ProjectID(context.Background()); got != "" {
		t.Errorf("ProjectID = %q off Cloud Run", got)
	}
}

// TestChunkOutputAndTimeout: the answer carries the chunk's HELIOS_*
// environment, only the configured tail of its output, and -1 for a
// chunk killed by HELIOS_CHUNK_TIMEOUT.
func TestChunkOutputAndTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.OutputLimit = 64
	cfg.ChunkTimeout = 300 * time.Millisecond
	e := newEnv(t, cfg)
	job := e.spec(t,
		`sh -c 'echo $HELIOS_JOB_ID $HELIOS_CHUNK_ID $HELIOS_FRAME_COUNT $HELIOS_OUTPUT_FILE; test "$PWD" = "$HELIOS_WORKSPACE" && echo in-workspace'`,
		`seq 1 1000`,
		`sh -c 'echo started; sleep 45'`,
	)
	r := e.do(t, http.MethodPost, payload(job, 0))
	r.check(t, http.StatusOK, "")
	if got := r.str(t, "stdout"); got != "job-1 0 1 out.mp4\nin-workspace\n" {
		t.Errorf("chunk environment: stdout %q", got)
	}

	r = e.do(t, http.MethodPost, payload(job, 1))
	r.check(t, http.StatusOK, "")
	if got := r.str(t, "stdout"); len(got) > 64 || !strings.HasSuffix(got, "\n999\n1000\n") {
		t.Errorf("stdout tail %q, want at most 64 bytes ending in 1000", got)
	}
	if string(r.body["stdoutTruncated"]) != "true" {
		t.Errorf("no stdoutTruncated flag: %s", r.raw)
	}

	start := time.Now()
	r = e.do(t, http.MethodPost, payload(job, 2))
	r.check(t, http.StatusInternalServerError, "*")
	if r.exitCode(t) != -1 || r.str(t, "stdout") != "started\n" || !strings.Contains(r.str(t, "message"), "timed out") {
		t.Errorf("timed-out chunk answered %s", r.raw)
	}
	// The chunk timeout is 300 ms; without it, the answer would wait 45 s.
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("timed-out chunk answered after %v", d)
	}
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "45")) == 0 }) {
		t.Error("sleep 45 left running")
	}
}
