package worker

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procenv"
)

// sweepTimeout bounds the wait for the swept processes to be gone.
const sweepTimeout = 3 * time.Second

// sweep kills every process that still carries the chunk's workspace in
// its environment (HELIOS_WORKSPACE=dir) and waits, within sweepTimeout,
// until none is left. Killing the chunk's process group misses what left
// it: Playwright starts Chromium detached, in a session of its own, and
// Chromium's crash handler daemonizes. Left running, they write into the
// workspace while it is deleted, and on Lambda they freeze and resume with
// the next invocation. Processes the worker adopted (it is PID 1 in a
// container) are reaped, so that no zombie is left either.
func sweep(dir string) {
	pids := procenv.WithEntry(envWorkspace + "=" + dir)
	if len(pids) == 0 {
		return
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	self := os.Getpid()
	for deadline := time.Now().Add(sweepTimeout); len(pids) > 0 && time.Now().Before(deadline); {
		alive := pids[:0]
		for _, pid := range pids {
			if parentOf(pid) == self {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
			if procenv.Running(pid) {
				alive = append(alive, pid)
			}
		}
		pids = alive
		if len(pids) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// parentOf returns the parent pid of pid, or 0 when it cannot be read.
func parentOf(pid int) int {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}
