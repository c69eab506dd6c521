//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the chunk in its own process group, so that it can be
// killed with everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// sweep finds no process by its environment here: only the process group
// is killed.
func sweep(string) {}

// startLeader starts a chunk's leader: nothing to track here.
func startLeader(cmd *exec.Cmd) (leader, error) {
	if err := cmd.Start(); err != nil {
		return leader{}, err
	}
	return leader{pid: cmd.Process.Pid}, nil
}

func forgetLeader(leader) {}

// cleanUp finds nothing outside the chunk's process group here.
func cleanUp(_ leader, mark string) bool { sweep(mark); return false }
