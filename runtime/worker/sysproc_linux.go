package worker

import "syscall"

// sysProcAttr puts the chunk in its own process group, so that it can be
// killed with everything it started, and kills it if the worker dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
