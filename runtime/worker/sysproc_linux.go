package worker

import "syscall"

// sysProcAttr puts the chunk in a session and process group of its own,
// so that it can be killed with everything it started and nothing it
// starts can return to the worker's session (see settle), and kills it
// if the worker dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}
