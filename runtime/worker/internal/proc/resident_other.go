//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// StartResident starts cmd in a process group of its own.
func StartResident(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}

// Hold does nothing here.
func Hold(int) func() { return func() {} }

// Sweep finds nothing by its environment here.
func Sweep(string) {}

// KillGroup kills the process group pgid.
func KillGroup(pgid int) { killGroup(pgid) }

// Reap has nothing to reap here.
func Reap(int) {}
