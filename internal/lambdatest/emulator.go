package lambdatest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// FunctionName is the only function the emulator serves.
const FunctionName = "function"

// Options configure one emulator.
type Options struct {
	// Env holds KEY=VALUE pairs added to the emulator's environment, which
	// it forwards to the function (HELIOS_WORKSPACE_ROOT and the like).
	// AWS_LAMBDA_* and HELIOS_* variables of the calling process are not
	// passed on, so that only these configure the worker.
	Env []string
	// FunctionTimeout sets AWS_LAMBDA_FUNCTION_TIMEOUT, the deadline the
	// emulator gives each invocation, in whole seconds; 0 keeps its 300 s.
	FunctionTimeout int
	// Dir is the working directory of the emulator and the function;
	// the directory of the binaries when empty.
	Dir string
	// ReadyTimeout bounds the wait for the invoke port: a guard against a
	// hang, not a measure of speed. When 0, it is a minute for Start, and
	// the test's deadline (less a margin) for StartT.
	ReadyTimeout time.Duration
}

// Emulator is a running aws-lambda-rie serving the bootstrap.
type Emulator struct {
	// Endpoint is the invoke address, http://127.0.0.1:PORT.
	Endpoint string
	// RuntimeAPI is the Runtime API address the bootstrap talks to.
	RuntimeAPI string
	// Client is an aws-sdk-go-v2 Lambda client for Endpoint, anonymous and
	// without retries.
	Client *lambda.Client

	cmd      *exec.Cmd
	out      *logBuffer
	exited   chan struct{}
	mu       sync.Mutex // the emulator serves one invocation at a time
	stopOnce sync.Once
}

// Start runs an emulator with b's bootstrap and waits until it accepts
// connections. A port taken between choosing it and binding it makes the
// emulator panic; Start then tries again with other ports.
func Start(b Binaries, o Options) (*Emulator, error) {
	var err error
	for range 3 {
		var e *Emulator
		e, err = start(b, o)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, errAddrInUse) {
			return nil, err
		}
	}
	return nil, err
}

// StartT is Start for tests and benchmarks: it fails tb on error, stops
// the emulator in tb.Cleanup, and logs the emulator's output if tb failed.
// Without a ReadyTimeout, it waits for the emulator until tb's deadline.
func StartT(tb testing.TB, b Binaries, o Options) *Emulator {
	tb.Helper()
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = testdeadline.Remaining(tb)
	}
	e, err := Start(b, o)
	if err != nil {
		tb.Fatalf("starting the Lambda emulator: %v", err)
	}
	tb.Cleanup(func() {
		e.Stop()
		if tb.Failed() {
			tb.Logf("emulator output (%d bytes in all):\n%s", e.out.Len(), e.Report(16<<10, 48<<10))
		}
	})
	return e
}

var errAddrInUse = errors.New("address already in use")

// Guards against a hang, generous so that a loaded machine never trips
// them: they bound waits for what must happen soon.
const (
	// defaultReadyTimeout bounds Start's wait for the invoke port.
	defaultReadyTimeout = time.Minute
	// waitDelay bounds how long, once the emulator has exited, its output
	// is still read: only a process that escaped Stop can hold it open.
	waitDelay = 30 * time.Second
	// stopTimeout bounds Stop's wait for the killed emulator to be reaped.
	stopTimeout = time.Minute
)

func start(b Binaries, o Options) (*Emulator, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.RIE,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", apiAddr,
		b.Bootstrap)
	cmd.Dir = o.Dir
	if cmd.Dir == "" {
		cmd.Dir = b.Dir
	}
	cmd.Env = environ(o)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &Emulator{
		Endpoint:   "http://" + invokeAddr,
		RuntimeAPI: apiAddr,
		cmd:        cmd,
		out:        out,
		exited:     make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(e.exited) }()
	ready := o.ReadyTimeout
	if ready <= 0 {
		ready = defaultReadyTimeout
	}
	if err := e.waitReady(invokeAddr, ready); err != nil {
		e.Stop()
		if strings.Contains(out.String(), "address already in use") {
			return nil, fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return nil, fmt.Errorf("%w\nemulator output:\n%s", err, e.Report(16<<10, 16<<10))
	}
	e.Client = lambda.New(lambda.Options{
		BaseEndpoint: aws.String(e.Endpoint),
		Region:       "us-east-1",
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
	return e, nil
}

func (e *Emulator) waitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("the emulator exited before listening on %s", addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not listen on %s within %v", addr, timeout)
		}
	}
}

// environ is the calling process's environment without its AWS_LAMBDA_*
// and HELIOS_* variables, plus what o sets.
func environ(o Options) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_LAMBDA_") || strings.HasPrefix(kv, "HELIOS_") {
			continue
		}
		env = append(env, kv)
	}
	if o.FunctionTimeout > 0 {
		env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(o.FunctionTimeout))
	}
	return append(env, o.Env...)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Stop kills the emulator, its bootstrap (which the emulator puts in a
// process group of its own) and everything they started, and waits for
// the emulator to be reaped (at most a minute). It is safe to call twice.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		pid := e.cmd.Process.Pid
		for range 2 { // a second pass for anything started meanwhile
			for _, d := range Descendants(pid) {
				_ = syscall.Kill(-d, syscall.SIGKILL) // its group, if it leads one
				_ = syscall.Kill(d, syscall.SIGKILL)
			}
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-e.exited:
		case <-time.After(stopTimeout):
		}
	})
}

// Exited reports whether the emulator process has ended.
func (e *Emulator) Exited() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// Output is the emulator's combined output so far: its own log, the
// bootstrap's JSON log lines and the chunks' passed-through output. Past
// 1 MiB, only the first MiB and the last 4 to 8 MiB are kept.
func (e *Emulator) Output() string { return e.out.String() }

// Report is the first head and last tail bytes of the output, with
// control characters shown as '.', for failure messages.
func (e *Emulator) Report(head, tail int) string { return e.out.report(head, tail) }

// WaitOutput waits until the output contains s, at most timeout. Output
// is read from a pipe, so a line written before an invocation answered
// may still be on its way when the answer arrives.
func (e *Emulator) WaitOutput(s string, timeout time.Duration) bool {
	return e.waitFor(timeout, func(out string) bool { return strings.Contains(out, s) })
}

func (e *Emulator) waitFor(timeout time.Duration, ok func(string) bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if ok(e.out.String()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration is the duration of the emulator's `INIT REPORT(durationMs:
// ...)` line: the bootstrap's init, which the emulator runs on the first
// invocation. It waits for the line at most timeout.
func (e *Emulator) InitDuration(timeout time.Duration) (time.Duration, error) {
	var m []string
	e.waitFor(timeout, func(out string) bool {
		m = initReport.FindStringSubmatch(out)
		return m != nil
	})
	if m == nil {
		return 0, errors.New("no INIT REPORT line in the emulator's output")
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("INIT REPORT: %w", err)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}
