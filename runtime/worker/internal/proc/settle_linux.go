package proc

import (
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
)

// A chunk's leader starts a session of its own (setsid), so that every
// process the chunk starts is outside the worker's session for good: a
// process can leave a session only for a new one of its own, never join
// another. Once no chunk is running, what is left below the worker
// outside its session can only be a chunk's, however it escaped its
// process group, its session or its environment (setsid -f env -i ...),
// and settle kills it. Children that a program embedding the worker
// starts stay in the worker's session, unless it starts them with setsid
// too; those are not touched.
//
// While other chunks run (Cloud Run concurrency above 1), only the
// ending chunk's own process group, and the processes that still carry
// its workspace in their environment, are killed: an escaped process of
// another running chunk is not told apart from a stray of this one.

// settleTimeout bounds how long a chunk's answer waits for its killed
// processes to be gone.
const settleTimeout = 3 * time.Second

// settle kills and reaps, within settleTimeout, what the chunk whose
// process group was pgid left below the worker: the members of that
// group, and, when no chunk runs any more, every process outside the
// worker's session. It returns once none is left, zombies included.
func settle(pgid, tid int) {
	if !procs.subreaper {
		return
	}
	self := os.Getpid()
	// The usual case, nothing left, is told without the lock, which would
	// wait for the leaders being forked and hold back new ones: the look
	// only decides that there is nothing to do, and a leader being forked
	// is at worst taken for a stray here, which sends settle the locked
	// way. Without the lock, all is true at least as often as with it
	// (the lock only lets forks in progress register more leaders).
	if !anyStray(self, tid, pgid) {
		return
	}
	procs.starting.Lock() // no leader is forked meanwhile
	defer procs.starting.Unlock()
	procs.mu.Lock()
	all := len(procs.leaders) == 0
	procs.mu.Unlock()
	for deadline := time.Now().Add(settleTimeout); ; time.Sleep(2 * time.Millisecond) {
		kids, _ := workerChildren(self, tid)
		left := 0
		for _, pid := range kids {
			if isLeader(pid) {
				continue
			}
			st, ok := procfs.StatOf(pid)
			if !ok || !(st.PGID == pgid || all && st.SID != procs.sid) {
				continue
			}
			if st.State == 'Z' {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
				continue
			}
			left++
			killTree(pid)
		}
		if left == 0 || time.Now().After(deadline) {
			return
		}
	}
}

// anyStray reports whether settle may have something to kill or reap: a
// child of the worker, not a running chunk's leader, in the process group
// pgid, or, when no chunk runs, outside the worker's session. It answers
// true when the children cannot be listed.
func anyStray(self, tid, pgid int) bool {
	kids, ok := workerChildren(self, tid)
	if !ok {
		return true
	}
	procs.mu.Lock()
	all := len(procs.leaders) == 0
	procs.mu.Unlock()
	for _, pid := range kids {
		if isLeader(pid) {
			continue
		}
		st, ok := procfs.StatOf(pid)
		if !ok { // gone, or not readable: let the locked look decide
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
				return true
			}
			continue
		}
		if st.PGID == pgid || all && st.SID != procs.sid {
			return true
		}
	}
	return false
}

// workerChildren lists the children of the worker's main thread, which
// adopts the orphans, and of the thread tid that forked a chunk's leader
// (the parent of what the chunk started with CLONE_PARENT; 0 for none):
// all the worker's children when a thread is gone. ok is false when they
// cannot be read.
func workerChildren(self, tid int) (kids []int, ok bool) {
	kids, ok = procfs.ThreadChildren(self, self, nil)
	if ok && tid != 0 && tid != self {
		var more []int
		more, ok = procfs.ThreadChildren(self, tid, nil)
		kids = append(kids, more...)
	}
	if !ok {
		kids, ok = procfs.Children(self)
	}
	return kids, ok
}

// killTree kills pid and, as far as maxStrays goes, its descendants: the
// ones it would leave would be re-parented to the worker and killed in
// the next round, one generation at a time.
func killTree(pid int) {
	queue := []int{pid}
	for n := 0; len(queue) > 0 && n < maxStrays; n++ {
		p := queue[0]
		queue = queue[1:]
		_ = syscall.Kill(p, syscall.SIGSTOP) // no more forks while its children are listed
		below, _ := procfs.Children(p)
		queue = append(queue, below...)
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}
