package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
)

// fakeGCS is fake-gcs-server in a process of its own, the bench
// re-executed with -fake-gcs: in process, its heap (the objects it holds)
// would slow the garbage collection of the worker under measurement.
type fakeGCS struct {
	cmd  *exec.Cmd
	host string // host:port
}

func startFakeGCS() (*fakeGCS, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-fake-gcs")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	_ = stdin // held open: if the bench dies, the pipe closes and the server exits
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("fake-gcs-server did not start: %w", err)
	}
	return &fakeGCS{cmd: cmd, host: strings.TrimSpace(line)}, nil
}

func (f *fakeGCS) url() string { return "http://" + f.host }
func (f *fakeGCS) env() string { return gcstest.EmulatorHostEnv + "=" + f.host }

func (f *fakeGCS) stop() {
	_ = f.cmd.Process.Kill()
	_ = f.cmd.Wait()
}

// serveFakeGCS is the -fake-gcs mode: it prints the server's host:port,
// then serves until standard input ends.
func serveFakeGCS() error {
	srv, err := gcstest.New()
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println(srv.Host())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}
