package worker_test

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
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
