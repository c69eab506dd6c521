package s3test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// motoProcess is a running moto_server.
type motoProcess struct {
	endpoint string
	cmd      *exec.Cmd
	log      *tailBuffer
	exited   chan struct{}
	stopOnce sync.Once
}

// errAddrInUse is a port taken between choosing it and moto binding it.
var errAddrInUse = errors.New("address already in use")

// startMoto runs moto_server on a free loopback port and waits, at most
// timeout, until it answers HTTP. A port that another process took in
// the meantime is tried again with another one.
func startMoto(bin string, timeout time.Duration) (*motoProcess, error) {
	var err error
	for range 3 {
		var p *motoProcess
		p, err = tryStartMoto(bin, timeout)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errAddrInUse) {
			return nil, err
		}
	}
	return nil, err
}

func tryStartMoto(bin string, timeout time.Duration) (*motoProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.Env = append(os.Environ(),
		"PYTHONUNBUFFERED=1",
		// The bucket is always in the path: moto would otherwise take
		// the first label of a host name for one.
		"S3_IGNORE_SUBDOMAIN_BUCKETNAME=true",
	)
	log := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &motoProcess{
		endpoint: "http://127.0.0.1:" + port,
		cmd:      cmd,
		log:      log,
		exited:   make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(timeout); err != nil {
		p.stop()
		out := log.String()
		if strings.Contains(out, "Address already in use") {
			return nil, fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return nil, fmt.Errorf("%w\nmoto_server output:\n%s", err, out)
	}
	return p, nil
}

// waitReady polls the server until it answers any HTTP request.
func (p *motoProcess) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(p.endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("moto_server exited before answering on %s", p.endpoint)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server did not answer on %s within %v", p.endpoint, timeout)
		}
	}
}

// stop kills moto_server and anything it started, and waits (at most 5 s)
// until it is reaped. It is safe to call twice.
func (p *motoProcess) stop() {
	p.stopOnce.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // its process group
		_ = p.cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
		}
	})
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
