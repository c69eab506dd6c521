package worker

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sweepTimeout bounds the wait for the swept processes to be gone.
const sweepTimeout = 3 * time.Second

// sweep kills every process that still carries the chunk's workspace in
// its environment (HELIOS_WORKSPACE=dir) and waits, within sweepTimeout,
// until none is left. Killing the chunk's process group misses what left
// it: Playwright starts Chromium detached, in a session of its own, and
// Chromium's crash handler daemonizes. Left running, they write into the
// workspace while it is deleted, and on Lambda they freeze and resume with
// the next invocation. Processes the worker adopted (it is PID 1 in a
// container) are reaped, so that no zombie is left either.
func sweep(dir string) {
	marker := []byte(envWorkspace + "=" + dir + "\x00")
	pids := processesWithEnv(marker)
	if len(pids) == 0 {
		return
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	self := os.Getpid()
	for deadline := time.Now().Add(sweepTimeout); len(pids) > 0 && time.Now().Before(deadline); {
		alive := pids[:0]
		for _, pid := range pids {
			if parentOf(pid) == self {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
			if running(pid) {
				alive = append(alive, pid)
			}
		}
		pids = alive
		if len(pids) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// processesWithEnv lists the processes, other than this one, whose
// environment holds the NUL-terminated entry marker.
func processesWithEnv(marker []byte) []int {
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

// parentOf returns the parent pid of pid, or 0 when it cannot be read.
func parentOf(pid int) int {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}

// running reports whether pid exists and is not a zombie (a zombie does
// nothing more; its parent reaps it).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}
