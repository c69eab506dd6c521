package transfer

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// watcher reports writes to the files the asset cache keeps, through
// any of their links: inotify watches the inode.
type watcher struct {
	fd  int
	buf []byte
}

// watchMask is what makes a kept file suspect: a write or truncation,
// and the end of any open for writing (which covers writes through a
// shared memory map, which send no event of their own).
const watchMask = syscall.IN_MODIFY | syscall.IN_CLOSE_WRITE

func newWatcher() (*watcher, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &watcher{fd: fd, buf: make([]byte, 64<<10)}, nil
}

func (w *watcher) add(path string) (int32, error) {
	wd, err := syscall.InotifyAddWatch(w.fd, path, watchMask)
	return int32(wd), err
}

func (w *watcher) close() { _ = syscall.Close(w.fd) }

func (w *watcher) remove(wd int32) { _, _ = syscall.InotifyRmWatch(w.fd, uint32(wd)) }

// drain reads every queued event, calling written for each watch that
// saw a write, and lost when the queue overflowed.
func (w *watcher) drain(written func(wd int32), lost func()) {
	for {
		n, err := syscall.Read(w.fd, w.buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return // EAGAIN: nothing more
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(w.buf[off:]))
			mask := binary.NativeEndian.Uint32(w.buf[off+4:])
			nameLen := binary.NativeEndian.Uint32(w.buf[off+12:])
			switch {
			case mask&syscall.IN_Q_OVERFLOW != 0:
				lost()
			case mask&watchMask != 0:
				written(wd)
			}
			off += syscall.SizeofInotifyEvent + int(nameLen)
		}
	}
}

// fileID is what a kept file must still be when it is placed.
type fileID struct {
	dev, ino, links uint64
	size            int64
	mode            uint32
	mtime           unix.Timespec
}

func (a fileID) same(b fileID) bool {
	return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mode == b.mode && a.mtime == b.mtime
}

func statID(path string) (fileID, error) { return fstatat(unix.AT_FDCWD, path) }

// statAt is statID of the file name in the open folder dir.
func statAt(dir *os.File, name string) (fileID, error) {
	var id fileID
	err := withFd(dir, func(fd int) (err error) {
		id, err = fstatat(fd, name)
		return err
	})
	return id, err
}

func fstatat(dirfd int, name string) (fileID, error) {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if err != nil {
		return fileID{}, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, links: uint64(st.Nlink), size: st.Size, mode: st.Mode, mtime: st.Mtim}, nil
}

// linkAt makes rel, a path below the open folder to, a hard link to the
// file name in the open folder from. Resolving both from open folders
// spares the kernel the lookup of every folder above them, which is a
// third of a link's cost with a workspace root a few folders deep.
func linkAt(from *os.File, name string, to *os.File, rel string) error {
	err := withFd(from, func(ffd int) error {
		return withFd(to, func(tfd int) error {
			return ignoringEINTR(func() error { return unix.Linkat(ffd, name, tfd, rel, 0) })
		})
	})
	if err != nil {
		return &os.LinkError{Op: "link", Old: name, New: rel, Err: err}
	}
	return nil
}

// withFd calls fn with f's descriptor, which stays open until fn returns
// even when f is closed meanwhile.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// freeSpace returns the bytes free to unprivileged users on dir's file
// system, 0 when it cannot tell.
func freeSpace(dir string) int64 {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0
	}
	return int64(fs.Bavail) * int64(fs.Bsize) // Bsize is an int32 on 32-bit systems
}

// cacheLockName is the file in a process's cache folder that it holds
// locked while it lives.
const cacheLockName = ".lock"

// lockedTempDir makes a folder of this process's own in dir and locks it.
func lockedTempDir(dir string) (string, *os.File, error) {
	own, err := os.MkdirTemp(dir, "p-")
	if err != nil {
		return "", nil, err
	}
	f, err := os.OpenFile(filepath.Join(own, cacheLockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.RemoveAll(own)
		return "", nil, err
	}
	return own, f, nil
}

// removeAbandoned removes the folders in dir of processes that are gone
// (a worker killed by a platform timeout leaves its cache behind): those
// whose lock nobody holds. Nothing else in dir is touched.
func removeAbandoned(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, d := range entries {
		if !d.IsDir() || !strings.HasPrefix(d.Name(), "p-") {
			continue
		}
		own := filepath.Join(dir, d.Name())
		f, err := os.Open(filepath.Join(own, cacheLockName))
		if err != nil {
			continue // not one of ours, or being made
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(own)
		}
		f.Close()
	}
}

// replaceDir renames the folder from to to, an empty folder, which it
// replaces (os.Rename refuses to).
func replaceDir(from, to string) error {
	if err := ignoringEINTR(func() error { return unix.Rename(from, to) }); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
