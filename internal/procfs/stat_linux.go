package procfs

import (
	"bytes"
	"strconv"
	"syscall"
)

// Stat is what the worker reads from /proc/PID/stat.
type Stat struct {
	State           byte // R, S, D, Z, T, ...
	PPID, PGID, SID int
}

// StatOf reads /proc/PID/stat; ok is false when the process is gone (or
// its stat cannot be parsed).
func StatOf(pid int) (Stat, bool) {
	var arr [512]byte
	data, _ := Read(arr[:0], "/proc/"+strconv.Itoa(pid)+"/stat")
	// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, false
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return Stat{}, false
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	pgid, _ := strconv.Atoi(string(f[2]))
	sid, _ := strconv.Atoi(string(f[3]))
	return Stat{State: f[0][0], PPID: ppid, PGID: pgid, SID: sid}, true
}

// Read reads a whole /proc file with plain system calls into buf's
// storage, growing it as needed, and returns the data (nil when the file
// cannot be opened or read) and the buffer for the next call.
func Read(buf []byte, name string) ([]byte, []byte) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, buf
	}
	defer syscall.Close(fd)
	if cap(buf) < 512 {
		buf = make([]byte, 0, 4096)
	}
	data := buf[:0]
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := syscall.Read(fd, data[len(data):cap(data)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, data
		}
		if n == 0 {
			return data, data
		}
		data = data[:len(data)+n]
	}
}

// readDirNames lists a directory with plain system calls.
func readDirNames(dir string) ([]string, bool) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n <= 0 {
			return names, true
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

// Children lists the children of every thread of pid; ok is false when
// they cannot be read (the process or one of its threads is gone, or the
// kernel has no /proc/PID/task/TID/children).
func Children(pid int) (kids []int, ok bool) {
	tids, ok := readDirNames("/proc/" + strconv.Itoa(pid) + "/task/")
	if !ok {
		return nil, false
	}
	var buf []byte
	for _, name := range tids {
		tid, _ := strconv.Atoi(name)
		// A thread that is gone gave its children to another, maybe
		// one already read: the list cannot be trusted then.
		more, ok := ThreadChildren(pid, tid, buf)
		if !ok {
			return nil, false
		}
		kids = append(kids, more...)
	}
	return kids, true
}

// ThreadChildren lists the children of thread tid of process pid, reading
// into buf's storage.
func ThreadChildren(pid, tid int, buf []byte) ([]int, bool) {
	data, _ := Read(buf, "/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(tid)+"/children")
	if data == nil {
		return nil, false
	}
	var kids []int
	for _, f := range bytes.Fields(data) {
		if k, err := strconv.Atoi(string(f)); err == nil {
			kids = append(kids, k)
		}
	}
	return kids, true
}

// RSS is the resident set size of process pid in bytes, from
// /proc/PID/statm; 0 when it cannot be read.
func RSS(pid int) int64 {
	var arr [128]byte
	data, _ := Read(arr[:0], "/proc/"+strconv.Itoa(pid)+"/statm")
	f := bytes.Fields(data)
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return pages * int64(syscall.Getpagesize())
}
