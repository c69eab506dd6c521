package proc

import (
	"os"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
)

// sweepTimeout bounds the wait for the swept processes to be gone.
const sweepTimeout = 3 * time.Second

// sweep kills every process that still carries the chunk's mark in its
// environment (HELIOS_WORKSPACE=dir) and waits, within sweepTimeout,
// until none is left. Killing the chunk's process group misses what left
// it: Playwright starts Chromium detached, in a session of its own, and
// Chromium's crash handler daemonizes. Left running, they write into the
// workspace while it is deleted, and on Lambda they freeze and resume with
// the next invocation. Processes the worker adopted (it is PID 1 in a
// container) are reaped, so that no zombie is left either.
func sweep(mark string) {
	pids := procfs.WithEntry(mark)
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
			if st, ok := procfs.StatOf(pid); ok && st.PPID == self {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
			if procfs.Running(pid) {
				alive = append(alive, pid)
			}
		}
		pids = alive
		if len(pids) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}
