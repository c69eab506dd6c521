package proc

import (
	"bytes"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/helios-project/helios-scaffold/internal/procfs"
)

// On Linux the worker makes itself a child subreaper
// (PR_SET_CHILD_SUBREAPER) before its first chunk: a process whose parent
// dies is then re-parented to the worker instead of to init, so that
// everything a chunk starts stays below the worker in the process tree,
// whether it left the chunk's process group or not. Once a chunk's leader
// has been waited for, what the chunk left behind can only be below a
// child of the worker that is not the leader of a chunk still running.
// strays looks there, which is cheap when nothing was left (the usual
// case), and the sweep over every process's environment runs only when
// it finds a process carrying the chunk's workspace, or cannot tell.
//
// Being a subreaper also makes the worker the parent of such processes
// when they exit: strays reaps the zombies it adopted. It never waits for
// a chunk's leader (os/exec does that), nor for a child in the worker's
// own process group: a program that embeds the worker may run children of
// its own, and waits for them itself. (A child that such a program starts
// in a process group or session of its own, and that exits while a chunk
// ends, may be reaped here.)

// procs tracks the chunks' leaders: the worker's children that strays
// must leave to os/exec.
var procs struct {
	once      sync.Once
	subreaper bool // the worker is a subreaper and can list its children
	pgid      int  // the worker's own process group
	sid       int  // the worker's session, which no chunk's process is in

	// starting is held for reading from a leader's fork to its
	// registration, and for writing while zombies are reaped, so that a
	// leader that exits before it is registered is never reaped.
	starting sync.RWMutex
	mu       sync.Mutex
	leaders  map[int]int // pid: chunks running with that leader (pids are reused)
}

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
const prSetChildSubreaper = 36

// becomeSubreaper makes the worker a subreaper, once, when it can list its
// children in /proc (the kernel's CONFIG_PROC_CHILDREN); without that list
// it stays as it was, and every chunk end sweeps.
func becomeSubreaper() {
	procs.leaders = make(map[int]int)
	procs.pgid = syscall.Getpgrp()
	if st, ok := procfs.StatOf(syscall.Getpid()); ok {
		procs.sid = st.SID
	}
	if _, ok := procfs.Children(syscall.Getpid()); !ok {
		return
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return
	}
	procs.subreaper = true
}

// startLeader starts cmd, the leader of a chunk's process group, and
// registers it until forgetLeader. It forks from a thread it notes, whose
// list of children strays reads: a process that the leader starts with
// CLONE_PARENT is that thread's child too. (The children that the worker
// adopts are its main thread's.)
func startLeader(cmd *exec.Cmd) (leader, error) {
	procs.once.Do(becomeSubreaper)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	procs.starting.RLock()
	defer procs.starting.RUnlock()
	if err := startVictim(cmd); err != nil {
		return leader{}, err
	}
	l := leader{pid: cmd.Process.Pid, tid: syscall.Gettid()}
	procs.mu.Lock()
	procs.leaders[l.pid]++
	procs.mu.Unlock()
	return l, nil
}

// forgetLeader unregisters a leader that has been waited for.
func forgetLeader(l leader) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.leaders[l.pid]--; procs.leaders[l.pid] <= 0 {
		delete(procs.leaders, l.pid)
	}
}

func isLeader(pid int) bool {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	return procs.leaders[pid] > 0
}

// cleanUp finds and kills what the chunk whose processes carry mark in
// their environment left outside its process group, once its leader has
// been waited for and the group killed. It reports true when it found
// nothing at all to look at: the worker's children were all running
// chunks' leaders.
func cleanUp(l leader, mark string) bool {
	if onlyLeaders(l.tid) {
		return true // the usual case: strays and settle would find nothing either
	}
	defer settle(l.pid, l.tid) // its group, and everything outside the worker's session when no chunk runs
	if mark == "" {
		return false
	}
	marker := []byte(mark + "\x00")
	if !strays(marker, l.tid) {
		return false
	}
	sweep(mark)
	strays(marker, l.tid) // reaps what the sweep killed, once it is a zombie
	return false
}

// onlyLeaders reports whether the worker's children, listed once as
// strays and settle list them, are all leaders of running chunks: then
// neither has anything to look at, kill or reap. (What the chunk left is
// among them: the kernel re-parents a process's children before its
// parent can wait for it.) False when the worker is not a subreaper or
// its children cannot be listed.
func onlyLeaders(tid int) bool {
	if !procs.subreaper {
		return false
	}
	kids, ok := workerChildren(syscall.Getpid(), tid)
	if !ok {
		return false
	}
	for _, pid := range kids {
		if !isLeader(pid) {
			return false
		}
	}
	return true
}

// strayRounds bounds the listings of the worker's children in strays: a
// process re-parented to the worker while the others were looked at shows
// up in the next one.
const strayRounds = 4

// maxStrays bounds the processes strays looks at; past it, it gives up and
// the sweep runs.
const maxStrays = 256

// strays reports whether a process carrying marker in its environment may
// be left: it walks the trees below the worker's children other than the
// running chunks' leaders, until a listing of those children shows none it
// has not looked at. The children are those of the worker's main thread
// and of the thread tid that forked the chunk's leader (0: the main
// thread's alone). It reaps the zombies among them on the way. It answers
// true when it cannot tell.
func strays(marker []byte, tid int) bool {
	if !procs.subreaper {
		return true
	}
	self := syscall.Getpid()
	seen := map[int]bool{}
	var buf []byte
	for range strayRounds {
		kids, ok := workerChildren(self, tid)
		if !ok {
			return true
		}
		var queue, zombies []int
		for _, pid := range kids {
			if !seen[pid] && !isLeader(pid) {
				queue = append(queue, pid)
			}
		}
		if len(queue) == 0 {
			return false
		}
		for len(queue) > 0 {
			pid := queue[0]
			queue = queue[1:]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if len(seen) > maxStrays {
				return true
			}
			st, ok := procfs.StatOf(pid)
			if !ok { // gone
				continue
			}
			if st.State == 'Z' {
				if st.PPID == self && st.PGID != procs.pgid {
					zombies = append(zombies, pid)
				}
				continue
			}
			var env []byte
			env, buf = procfs.Read(buf, "/proc/"+strconv.Itoa(pid)+"/environ")
			// An empty environment is that of a process in the middle
			// of an exec (or of `env -i`): let the sweep look again.
			if hasEntry(env, marker) || (env != nil && len(env) == 0) {
				return true
			}
			// An environment that cannot be read (another user's
			// process) is not the chunk's, as for sweep; its children
			// may be.
			below, ok := procfs.Children(pid)
			if !ok {
				if _, there := procfs.StatOf(pid); there {
					return true
				}
				continue
			}
			queue = append(queue, below...)
		}
		reap(zombies)
	}
	return true
}

// reap waits for the zombies, unless one is a chunk's leader by now.
func reap(zombies []int) {
	if len(zombies) == 0 {
		return
	}
	procs.starting.Lock()
	defer procs.starting.Unlock()
	for _, pid := range zombies {
		if isLeader(pid) {
			continue
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// hasEntry reports whether the environment block env (NUL-separated)
// holds the NUL-terminated entry.
func hasEntry(env, entry []byte) bool {
	for len(env) > 0 {
		if bytes.HasPrefix(env, entry) {
			return true
		}
		i := bytes.IndexByte(env, 0)
		if i < 0 {
			return false
		}
		env = env[i+1:]
	}
	return false
}
