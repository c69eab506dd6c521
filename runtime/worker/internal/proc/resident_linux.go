package proc

import (
	"os/exec"
	"runtime"
	"syscall"

	"github.com/helios-project/helios-scaffold/internal/procfs"
)

// StartResident starts cmd as a helper that outlives chunks (the warm
// renderer): in the worker's session, so that settle never takes it for
// a chunk's stray, in a process group of its own, so that KillGroup ends
// it with what it started there, killed when the worker dies
// (PR_SET_PDEATHSIG, from a thread locked for the fork as for a chunk's
// leader), and with the chunks' oom_score_adj: under a memory limit it
// goes before the worker.
func StartResident(cmd *exec.Cmd) error {
	procs.once.Do(becomeSubreaper)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return startVictim(cmd)
}

// Hold counts the resident pid as a running chunk's leader until the
// function returned is called: while it renders a chunk, the end of
// another chunk must not take the processes outside the worker's session
// that this chunk started for strays of its own.
func Hold(pid int) (release func()) {
	procs.once.Do(becomeSubreaper)
	procs.mu.Lock()
	procs.leaders[pid]++
	procs.mu.Unlock()
	return func() { forgetLeader(leader{pid: pid}) }
}

// Sweep kills every process that carries mark in its environment, reaps
// those the worker adopted, and waits, within bounds, until none is left:
// what a chunk rendered by a resident started.
func Sweep(mark string) { sweep(mark) }

// KillGroup kills the process group pgid.
func KillGroup(pgid int) { killGroup(pgid) }

// Reap waits for the worker's children that are zombies, but keep (the
// resident, which its own Wait reaps) and running chunks' leaders: the
// orphans of a resident's children that died on their own, which the
// worker adopted as a subreaper and no sweep finds any more (a zombie
// has no environment).
func Reap(keep int) {
	if !procs.subreaper {
		return
	}
	self := syscall.Getpid()
	kids, ok := procfs.Children(self)
	if !ok {
		return
	}
	var zombies []int
	for _, pid := range kids {
		if st, ok := procfs.StatOf(pid); ok && st.State == 'Z' && pid != keep {
			zombies = append(zombies, pid)
		}
	}
	reap(zombies)
}
