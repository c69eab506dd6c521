package procfs

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// WithEntry lists the processes, other than this one, whose environment
// holds entry ("NAME=VALUE") exactly. Processes of other users, whose
// environment cannot be read, are not listed.
func WithEntry(entry string) []int {
	marker := []byte(entry + "\x00")
	proc, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := proc.Readdirnames(-1)
	proc.Close()
	self := os.Getpid()
	var pids []int
	buf := make([]byte, 0, 32<<10)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		env, next := Read(buf, "/proc/"+name+"/environ")
		buf = next[:0]
		if env == nil { // gone, or another user's
			continue
		}
		if bytes.HasPrefix(env, marker) || bytes.Contains(env, append([]byte{0}, marker...)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Kill sends SIGKILL to every process whose environment holds entry, and
// to the process group each leads, and waits until they are gone or
// zombies, at most wait. It returns how many it found.
func Kill(entry string, wait time.Duration) int {
	pids := WithEntry(entry)
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // its group, if it leads one
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		alive := 0
		for _, pid := range pids {
			if Running(pid) {
				alive++
			}
		}
		if alive == 0 {
			break
		}
	}
	return len(pids)
}

// Running reports whether pid is a process that has not exited (a zombie
// has).
func Running(pid int) bool {
	st, ok := StatOf(pid)
	return ok && st.State != 'Z'
}
