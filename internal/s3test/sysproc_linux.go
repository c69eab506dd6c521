package s3test

import "syscall"

// sysProcAttr gives moto_server a process group of its own, to kill it
// with everything in it, and kills it if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
