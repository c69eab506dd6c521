package worker_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// envDeathHelper, when set, makes TestWorkerProcessHelper a worker
// process whose chunk sleeps for hours, below the workspace root it
// names.
const envDeathHelper = "HELIOS_TEST_WORKER_PROCESS_ROOT"

// deathSleep is the chunk's sleep: an argument no other test uses.
const deathSleep = "7207"

// TestWorkerProcessHelper is not a test: TestChunkDiesWithWorker runs the
// test binary with it as a worker process, and kills it.
func TestWorkerProcessHelper(t *testing.T) {
	root := os.Getenv(envDeathHelper)
	if root == "" {
		t.Skip("the worker process of TestChunkDiesWithWorker")
	}
	path := filepath.Join(root, "job.json")
	spec := `{"id":"death","chunks":[{"id":0,"command":"sleep ` + deathSleep + `"}]}`
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = filepath.Join(root, "ws")
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
	done := make(chan *worker.Result, 1)
	go func() { done <- w.Run(context.Background(), jobspec.Request{JobPath: path}) }() // as a platform's handler does
	r := <-done
	t.Fatalf("the chunk ended while its worker lived: %s", r.Message())
}

// A worker killed with SIGKILL, which it cannot catch, takes its chunk's
// leader with it (PR_SET_PDEATHSIG): the leader is in a session of its
// own and would otherwise go on, re-parented, rendering for no one.
func TestChunkDiesWithWorker(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc:", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcessHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDeathHelper+"="+t.TempDir())
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })

	deadline := time.Now().Add(testdeadline.Remaining(t))
	var chunk int
	for chunk == 0 {
		select {
		case <-exited:
			t.Fatalf("the worker process ended before its chunk started:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's chunk (sleep %s) did not start:\n%s", deathSleep, out.String())
		}
		chunk = childRunning(cmd.Process.Pid, "sleep", deathSleep)
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		if isRunning(chunk, "sleep", deathSleep) {
			syscall.Kill(chunk, syscall.SIGKILL)
		}
	})
	if st, ok := procfs.StatOf(chunk); !ok || st.SID != chunk {
		t.Fatalf("the chunk (pid %d) is not in a session of its own: %+v", chunk, st)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	for isRunning(chunk, "sleep", deathSleep) {
		if time.Now().After(deadline) {
			t.Fatalf("the chunk (pid %d) outlived its worker", chunk)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Re-parented to this process, when another test made it a
	// subreaper: reap the zombie.
	var ws syscall.WaitStatus
	syscall.Wait4(chunk, &ws, syscall.WNOHANG, nil)
}

// childRunning is the pid of a child of parent whose command line is
// argv, or 0.
func childRunning(parent int, argv ...string) int {
	entries, _ := os.ReadDir("/proc/")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procfs.StatOf(pid); ok && st.PPID == parent && isRunning(pid, argv...) {
			return pid
		}
	}
	return 0
}

// isRunning reports whether pid is alive, not a zombie, and runs argv.
func isRunning(pid int, argv ...string) bool {
	if st, ok := procfs.StatOf(pid); !ok || st.State == 'Z' {
		return false
	}
	cmdline, _ := procfs.Read(nil, "/proc/"+strconv.Itoa(pid)+"/cmdline")
	return bytes.Equal(cmdline, []byte(strings.Join(argv, "\x00")+"\x00"))
}
