package proc

import "syscall"

// sysProcAttr puts the chunk in a session and process group of its own,
// so that it can be killed with everything it started and nothing it
// starts can return to the worker's session (see settle), and kills it
// if the worker dies.
//
// The kernel sends Pdeathsig when the thread that forked the child ends,
// not the process. startLeader forks on a thread locked to its goroutine
// for the fork only, and Go ends a thread only when a goroutine ends
// while locked to it: a program that embeds the worker must not run a
// chunk from a goroutine that locked its thread (runtime.LockOSThread)
// and then ends, or the chunk is killed with that thread.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}
