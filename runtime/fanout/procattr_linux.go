package fanout

import "syscall"

// groupAttr starts a process in a group of its own, killed with this
// process (the parent-death signal).
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
