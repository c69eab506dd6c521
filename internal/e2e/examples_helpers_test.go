package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// runCLI runs the CLI in process and fails unless it exits with want.
func runCLI(t *testing.T, want int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	ctx := testdeadline.Context(t)
	if code := cli.Run(ctx, args, &out, &errb); code != want {
		t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
	}
	return out.String()
}

// goCmd runs the go command in dir with extra environment, bounded in time.
func goCmd(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	if err := goRun(dir, env, args...); err != nil {
		t.Fatal(err)
	}
}

// goRun runs the go command in dir with extra environment, within 5
// minutes; the error holds its output.
func goRun(dir string, env []string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v in %s: %w\n%s", args, dir, err, out)
	}
	return nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitListening waits for addr to accept connections, as long as the
// test may.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s", addr)
}

// freePort returns a loopback port that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
