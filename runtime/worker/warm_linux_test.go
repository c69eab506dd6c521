package worker_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// envWarmDeathHelper, when set, makes TestWarmWorkerProcessHelper a
// worker process that renders a blocked chunk in the warm renderer: the
// value is "ROOT:BIN:SCRIPT".
const envWarmDeathHelper = "HELIOS_TEST_WARM_WORKER_PROCESS"

// TestWarmWorkerProcessHelper is not a test: TestWarmRendererDiesWithWorker
// runs the test binary with it as a worker process, and kills it.
func TestWarmWorkerProcessHelper(t *testing.T) {
	v := os.Getenv(envWarmDeathHelper)
	if v == "" {
		t.Skip("the worker process of TestWarmRendererDiesWithWorker")
	}
	parts := strings.SplitN(v, ":", 3)
	root, bin, script := parts[0], parts[1], parts[2]
	path := filepath.Join(root, "job.json")
	spec := `{"id":"death","chunks":[{"id":0,"outputFile":"o.mp4","command":"helios render block.html -o o.mp4"}]}`
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot, cfg.WarmRendererScript, cfg.ChunkIdleTimeout = filepath.Join(root, "ws"), script, 0
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)),
		worker.WithEnv("PATH="+bin+":"+os.Getenv("PATH")))
	r := w.Run(context.Background(), jobspec.Request{JobPath: path})
	t.Fatalf("the chunk ended while its worker lived: %s", r.Message())
}

// A worker killed with SIGKILL takes its warm renderer with it
// (PR_SET_PDEATHSIG), even one whose thread is blocked in a render and
// cannot see its pipes close: a Node process left behind would hold a
// browser, and memory, for no one.
func TestWarmRendererDiesWithWorker(t *testing.T) {
	bin, script := heliosInstall(t)
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWarmWorkerProcessHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envWarmDeathHelper+"="+root+":"+bin+":"+script)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })

	node, _ := exec.LookPath("node")
	cliDir := filepath.Join(filepath.Dir(bin), "@helios-project", "cli")
	deadline := time.Now().Add(testdeadline.Remaining(t))
	var renderer int
	for renderer == 0 {
		select {
		case <-exited:
			t.Fatalf("the worker process ended before its renderer started:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's renderer did not start:\n%s", out.String())
		}
		if blocked, _ := filepath.Glob(filepath.Join(root, "ws", "*", "work", "o.mp4")); len(blocked) > 0 {
			renderer = childRunning(cmd.Process.Pid, node, script, cliDir)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		if isRunning(renderer, node, script, cliDir) {
			syscall.Kill(renderer, syscall.SIGKILL)
		}
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	for gone := time.Now().Add(10 * time.Second); isRunning(renderer, node, script, cliDir); {
		if time.Now().After(gone) {
			t.Fatalf("the warm renderer (pid %d) outlived its worker", renderer)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(renderer, &ws, syscall.WNOHANG, nil)
}
