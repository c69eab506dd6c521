package lambdatest

import "syscall"

// sysProcAttr gives the emulator a process group of its own, to kill it
// with everything in it, and kills it if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
