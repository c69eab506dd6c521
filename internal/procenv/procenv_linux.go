package procenv

import (
	"bytes"
	"io"
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
		env, err := readInto(buf, "/proc/"+name+"/environ")
		if err != nil { // gone, or another user's
			continue
		}
		buf = env[:0]
		if bytes.HasPrefix(env, marker) || bytes.Contains(env, append([]byte{0}, marker...)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readInto reads the file name into buf's storage, growing it as needed.
func readInto(buf []byte, name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || (err == nil && n == 0) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
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
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}
