package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a running Cloud Run worker binary.
type server struct {
	cmd *exec.Cmd
	url string
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// startServer execs the Cloud Run binary and returns when it has answered
// a first request, with the time from exec to that answer.
func startServer(ctx context.Context, bin, root string, first []byte, env ...string) (*server, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "PORT="+port, "HELIOS_WORKSPACE_ROOT="+root), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // drained through pipes, as a log agent would
	s := &server{cmd: cmd, url: "http://127.0.0.1:" + port + "/"}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := start.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			s.stop()
			return nil, 0, ctx.Err()
		}
		resp, err := client.Post(s.url, "application/json", bytes.NewReader(first))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				s.stop()
				return nil, 0, fmt.Errorf("first request: %s", resp.Status)
			}
			return s, time.Since(start), nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	s.stop()
	return nil, 0, fmt.Errorf("server did not answer within 10s")
}

// withServer starts the Cloud Run binary, waits for its first answer (a
// true chunk), runs measure against it, and stops it.
func withServer(ctx context.Context, b binaries, j jobs, dir string, measure func(*server) error) error {
	srv, _, err := startServer(ctx, b.cloudrun, dir, j.event(chunkTrue))
	if err != nil {
		return err
	}
	defer srv.stop()
	return measure(srv)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// post sends one event and fails on any status but 200.
func (s *server) post(client *http.Client, event []byte) error {
	resp, err := client.Post(s.url, "application/json", bytes.NewReader(event))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// procStatus reads a kB field such as VmRSS or VmHWM of a process.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat: 100
// on every Linux architecture Go builds for (`getconf CLK_TCK`).
const clockTicks = 100

// procCPU reads the CPU time, user and system, that a process has used
// and that its children have used once it waited for them: the fields
// utime, stime, cutime and cstime of /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold blanks;
	// field 3, the state, follows the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat: %d fields after the name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:15] { // fields 14 to 17: utime stime cutime cstime
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
