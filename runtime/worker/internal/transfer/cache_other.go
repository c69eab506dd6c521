//go:build !linux

package transfer

import (
	"errors"
	"os"
	"path/filepath"
)

// Without inotify the asset cache copies every file it places, and keeps
// nothing between processes.

type watcher struct{}

func newWatcher() (*watcher, error)        { return nil, errors.ErrUnsupported }
func (*watcher) add(string) (int32, error) { return -1, errors.ErrUnsupported }
func (*watcher) remove(int32)              {}
func (*watcher) close()                    {}
func (*watcher) drain(func(int32), func()) {}
func freeSpace(string) int64               { return 0 }
func removeAbandoned(string)               {}
func lockedTempDir(dir string) (string, *os.File, error) {
	own, err := os.MkdirTemp(dir, "p-")
	return own, nil, err
}

type fileID struct {
	links uint64
	size  int64
	mode  os.FileMode
	mtime int64
}

func (a fileID) same(b fileID) bool {
	return a.size == b.size && a.mode == b.mode && a.mtime == b.mtime
}

func statID(path string) (fileID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileID{}, err
	}
	return fileID{links: 1, size: fi.Size(), mode: fi.Mode(), mtime: fi.ModTime().UnixNano()}, nil
}

func statAt(dir *os.File, name string) (fileID, error) {
	return statID(filepath.Join(dir.Name(), name))
}

func linkAt(from *os.File, name string, to *os.File, rel string) error {
	return os.Link(filepath.Join(from.Name(), name), filepath.Join(to.Name(), rel))
}

// replaceDir is not needed without hard links: the cache makes no spare.
func replaceDir(from, to string) error { return errors.ErrUnsupported }
