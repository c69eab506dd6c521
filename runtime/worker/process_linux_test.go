package worker_test

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A process of the chunk below one that cleared its environment (so that
// only the lower one carries HELIOS_WORKSPACE), in a session of its own,
// is found and killed too.
func TestRunKillsMarkedProcessBelowUnmarkedOne(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	cfg := testConfig(t)
	r := runChunk(t, cfg, `sh -c 'setsid env -i HOME=/ sh -c "env HELIOS_WORKSPACE=\"\$0\" sleep 46 & wait" "$HELIOS_WORKSPACE" </dev/null >/dev/null 2>&1 & sleep 0.5'`)
	if !r.OK() {
		t.Fatalf("Run = %+v", r)
	}
	if pids := procsWithCmdline(t, "sleep", "46"); len(pids) > 0 {
		t.Errorf("the chunk's process below an unmarked one is still running: pids %v", pids)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// A process that left the chunk and exited on its own, after its parent,
// is not left as a zombie of the worker, which adopted it.
func TestRunReapsAdoptedProcesses(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	cfg := testConfig(t)
	r := runChunk(t, cfg, `sh -c '(setsid sh -c "echo \$\$; exec sleep 0.1" </dev/null 2>/dev/null &); sleep 0.5'`)
	if !r.OK() {
		t.Fatalf("Run = %+v", r)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(r.Stdout)))
	if err != nil {
		t.Fatalf("Stdout = %q", r.Stdout)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return // reaped
	}
	i := bytes.LastIndexByte(stat, ')')
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) > 1 && fields[0] == "Z" && fields[1] == strconv.Itoa(os.Getpid()) {
		t.Errorf("pid %d is a zombie of the worker: %s", pid, stat)
	}
}

// The chunk's standard input is /dev/null, chunk after chunk (the worker
// opens it once).
func TestRunStdinIsDevNull(t *testing.T) {
	cfg := testConfig(t)
	for range 3 {
		r := runChunk(t, cfg, `sh -c 'cat; readlink /proc/self/fd/0; exec 0<&-'`)
		if !r.OK() || string(r.Stdout) != "/dev/null\n" {
			t.Fatalf("Run = %+v, Stdout %q", r, r.Stdout)
		}
	}
}

// A process that leaves the chunk unmarked (no HELIOS_WORKSPACE) and holds
// its output pipe holds Run for the pipes' drain timeout (2s), no longer.
func TestRunDrainTimeout(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	t.Cleanup(func() {
		for _, pid := range procsWithCmdline(t, "sleep", "47") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	cfg := testConfig(t)
	start := time.Now()
	r := runChunk(t, cfg, `sh -c 'setsid env -i HOME=/ sleep 47 & echo out; sleep 0.3'`)
	if elapsed := time.Since(start); elapsed < time.Second || elapsed > 10*time.Second {
		t.Errorf("Run took %v", elapsed)
	}
	if !r.OK() || string(r.Stdout) != "out\n" {
		t.Errorf("Run = %+v, Stdout %q", r, r.Stdout)
	}
}
