package workspace

import (
	"os"
	"syscall"
)

// lockDir holds dir locked (flock) while the returned file is open: a
// workspace is locked by its chunk, so that a worker sharing the root
// never takes it for a dead one's. The lock goes with the process,
// however it ends.
func lockDir(dir string) (*os.File, error) {
	// Opened with plain system calls: os.Open would try Go's poller on
	// it, four fcntl and an epoll_ctl for a descriptor only flock uses.
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// unlocked reports whether nobody holds dir locked, taking and dropping
// the lock to find out.
func unlocked(dir string) bool {
	f, err := lockDir(dir)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
