package runapitest

import "syscall"

// procAttr puts a task's process in a group of its own, which is what
// the server stops, and kills it if the server's thread goes away.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
