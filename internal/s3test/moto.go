package s3test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
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

// startMoto runs moto_server on a loopback port that the kernel picks as
// moto binds it (-p 0), so that no other process can take it first, and
// waits, at most timeout, until moto says which port it has and answers
// HTTP there.
func startMoto(bin string, timeout time.Duration) (*motoProcess, error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
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
	p := &motoProcess{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(timeout)
	err := p.waitListening(deadline)
	if err == nil {
		err = p.waitReady(deadline)
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\nmoto_server output:\n%s", err, log.String())
	}
	return p, nil
}

// listening is the line in which moto (werkzeug) names its address.
var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// waitListening waits until moto's log names the port it listens on.
func (p *motoProcess) waitListening(deadline time.Time) error {
	for {
		if m := listening.FindStringSubmatch(p.log.String()); m != nil {
			p.endpoint = m[1]
			return nil
		}
		select {
		case <-p.exited:
			return errors.New("moto_server exited before listening")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("moto_server did not say where it listens in time")
		}
	}
}

// waitReady polls the server until it answers any HTTP request.
func (p *motoProcess) waitReady(deadline time.Time) error {
	client := &http.Client{Timeout: time.Second}
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
			return fmt.Errorf("moto_server did not answer on %s in time", p.endpoint)
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
