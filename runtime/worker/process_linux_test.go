package worker_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A process of the chunk below one that cleared its environment (so that
// only the lower one carries HELIOS_WORKSPACE), in a session of its own,
// is found and killed too.
func TestRunKillsMarkedProcessBelowUnmarkedOne(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	cfg := testConfig(t)
	r := runChunk(t, cfg, `sh -c 'setsid env -i HOME=/ sh -c "env HELIOS_WORKSPACE=\"\$0\" sleep 46 & wait" "$HELIOS_WORKSPACE" </dev/null >/dev/null 2>&1 & `+untilRunning("sleep 46")+`'`)
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

// Nothing a chunk starts outlives its answer, however it leaves the
// chunk's process group, session or environment: when Run returns, it is
// gone (and reaped), and Run did not wait for the pipes it held.
func TestRunLeavesNoProcess(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	tests := []struct {
		name, command string
		argv          []string
	}{
		{"setsid -f env -i", `sh -c 'setsid -f env -i sleep 47; ` + untilRunning("sleep 47") + `; echo out'`, []string{"sleep", "47"}},
		{"setsid env -i, holding the output pipe", `sh -c 'setsid env -i HOME=/ sleep 48 & ` + untilRunning("sleep 48") + `; echo out'`, []string{"sleep", "48"}},
		{"double fork, stdio closed", `sh -c '(setsid sh -c "sleep 49 </dev/null >/dev/null 2>&1 &" &); ` + untilRunning("sleep 49") + `; echo out'`, []string{"sleep", "49"}},
		{"in the background of its group", `sh -c 'sleep 50 & ` + untilRunning("sleep 50") + `; echo out'`, []string{"sleep", "50"}},
		{"300 in the background", `sh -c 'i=0; while [ $i -lt 300 ]; do sleep 46 & i=$((i+1)); done; echo out'`, []string{"sleep", "46"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(func() {
				for _, pid := range procsWithCmdline(t, tt.argv...) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			r := runChunk(t, testConfig(t), tt.command)
			if !r.OK() || string(r.Stdout) != "out\n" {
				t.Errorf("Run = %+v, Stdout %q", r, r.Stdout)
			}
			if pids := procsWithCmdline(t, tt.argv...); len(pids) != 0 {
				t.Errorf("%q still running when Run returned: pids %v", tt.argv, pids)
			}
			if z := zombieChildren(t); len(z) != 0 {
				t.Errorf("zombies left unreaped: %v", z)
			}
		})
	}
}

// zombieChildren lists the test process's children that are zombies.
func zombieChildren(t *testing.T) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		i := bytes.LastIndexByte(data, ')')
		if err != nil || i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// untilRunning is a shell loop, for inside sh -c '...', that waits (up
// to a minute) until a process runs `sleep N`: one grep per round, for a
// process with the argument N (a bracket keeps grep from matching its own).
func untilRunning(cmdline string) string {
	n := strings.TrimPrefix(cmdline, "sleep ")
	re := n[:len(n)-1] + "[" + n[len(n)-1:] + "]"
	return `for i in $(seq 6000); do grep -qsxz "` + re + `" /proc/[0-9]*/cmdline && break; sleep 0.01; done`
}

// With two chunks at once, the first to end kills its own processes only:
// the other's escaped process lives on until the other ends too, and then
// both are gone.
func TestRunConcurrentChunksKeepEachOthersProcesses(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	meet := t.TempDir()
	for _, n := range []string{"7051", "7052"} { // hours: chunk 0's must not end before it looks
		killOnCleanup(t, "sleep", n)
	}
	// Chunk 0 starts its escapee, then waits until chunk 1 has ended and
	// says whether its escapee is still there.
	long := `sh -c 'setsid -f env -i sleep 7051; ` + untilRunning("sleep 7051") + `; touch ` + meet + `/long-started; ` +
		`while [ ! -e ` + meet + `/short-done ]; do sleep 0.01; done; ` +
		`for p in /proc/[0-9]*; do [ "$(tr "\0" " " < $p/cmdline 2>/dev/null)" = "sleep 7051 " ] && echo alive; done; true'`
	short := `sh -c 'setsid -f env -i sleep 7052; ` + untilRunning("sleep 7052") + `'`
	spec := jobspec.Spec{ID: "two", Chunks: []jobspec.Chunk{{ID: 0, Command: long}, {ID: 1, Command: short}}}
	path := writeSpec(t, spec)
	w := newWorker(testConfig(t))
	done := make(chan *worker.Result)
	go func() { done <- w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: 0}) }()
	for deadline := time.Now().Add(testdeadline.Remaining(t)); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(meet, "long-started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("chunk 0 did not start")
		}
	}
	if r := w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: 1}); !r.OK() {
		t.Fatalf("chunk 1: %+v", r)
	}
	if err := os.WriteFile(filepath.Join(meet, "short-done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !r.OK() || string(r.Stdout) != "alive\n" {
		t.Errorf("chunk 0 = %+v, Stdout %q; want its escaped process alive after chunk 1 ended", r, r.Stdout)
	}
	for _, n := range []string{"7051", "7052"} {
		if pids := procsWithCmdline(t, "sleep", n); len(pids) != 0 {
			t.Errorf("sleep %s still running once both chunks ended: pids %v", n, pids)
		}
	}
}

// Under memory pressure the chunk is the OOM killer's choice, not the
// worker: it and what it starts have oom_score_adj 1000, and the worker
// keeps its own.
func TestChunkIsTheOOMVictim(t *testing.T) {
	own := func() string {
		data, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			t.Skip("no /proc/self/oom_score_adj:", err)
		}
		return string(data)
	}
	before := own()
	r := runChunk(t, testConfig(t), `sh -c 'cat /proc/self/oom_score_adj; sh -c "cat /proc/self/oom_score_adj" & wait'`)
	if !r.OK() || string(r.Stdout) != "1000\n1000\n" {
		t.Errorf("Run = %+v, Stdout %q; want the chunk and its child at 1000", r, r.Stdout)
	}
	if after := own(); after != before {
		t.Errorf("the worker's oom_score_adj went from %q to %q", before, after)
	}
}
