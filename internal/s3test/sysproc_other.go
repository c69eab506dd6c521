//go:build unix && !linux

package s3test

import "syscall"

// sysProcAttr gives moto_server a process group of its own, to kill it
// with everything in it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
