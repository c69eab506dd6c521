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
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
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
