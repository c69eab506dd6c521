//go:build unix && !linux

package lambdatest

import "syscall"

// sysProcAttr gives the emulator a process group of its own.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
