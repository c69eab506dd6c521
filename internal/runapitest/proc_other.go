//go:build !linux

package runapitest

import "syscall"

// procAttr puts a task's process in a group of its own, which is what
// the server stops.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
