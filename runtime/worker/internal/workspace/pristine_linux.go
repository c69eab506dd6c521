package workspace

import (
	"io"
	"os"
	"syscall"
)

// emptied removes what the chunk left in Work and Tmp (its output, its
// assets, its temporary files) and reports whether the workspace is then
// as New made it. It first checks that Base holds Work and Tmp alone and
// that both are still the folders New made (not links, not another
// user's), and removes only below them, through an os.Root: nothing
// outside the workspace can be reached, whatever the chunk put there.
func (ws *Workspace) emptied() bool {
	if !ws.shaped() {
		return false
	}
	for _, d := range []string{ws.Work, ws.Tmp} {
		names, ok := dirNames(d, maxEmptied)
		if !ok || len(names) > maxEmptied {
			return false // much to remove: removing the whole costs no more
		}
		if len(names) > 0 && !removeBelow(d, names) {
			return false
		}
	}
	return true
}

// removeBelow removes names from the folder d, through an os.Root on it.
func removeBelow(d string, names []string) bool {
	root, err := os.OpenRoot(d)
	if err != nil {
		return false
	}
	defer root.Close()
	for _, name := range names {
		if root.RemoveAll(name) != nil {
			return false
		}
	}
	names, ok := dirNames(d, 0)
	return ok && len(names) == 0
}

// maxEmptied bounds the entries emptied removes from a folder.
const maxEmptied = 64

// pristine reports whether the workspace is as New made it: Base holding
// Work and Tmp alone, both empty folders of mode 0700, owned by this
// process's user, without extended attributes (ACLs).
func (ws *Workspace) pristine() bool {
	if !ws.shaped() {
		return false
	}
	for _, d := range []string{ws.Work, ws.Tmp} {
		if names, ok := dirNames(d, 0); !ok || len(names) != 0 {
			return false
		}
	}
	return true
}

// shaped reports whether Base holds Work and Tmp alone, both folders (not
// links) of mode 0700, owned by this process's user, without extended
// attributes (ACLs).
func (ws *Workspace) shaped() bool {
	names, ok := dirNames(ws.Base, 3)
	if !ok || len(names) != 2 || !(names[0] == workName && names[1] == tmpName || names[0] == tmpName && names[1] == workName) {
		return false
	}
	uid := os.Geteuid()
	for _, d := range []string{ws.Work, ws.Tmp} {
		var st syscall.Stat_t
		if syscall.Lstat(d, &st) != nil || st.Mode != syscall.S_IFDIR|0o700 || int(st.Uid) != uid {
			return false
		}
		if n, err := syscall.Listxattr(d, nil); err != nil && err != syscall.ENOTSUP || n != 0 {
			return false
		}
	}
	return true
}

// dirNames lists at most n+1 names in dir (ok false when it cannot be
// read).
func dirNames(dir string, n int) ([]string, bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	names, err := f.Readdirnames(n + 1)
	if err != nil && err != io.EOF {
		return nil, false
	}
	return names, true
}

// inMemory reports whether dir is on a file system kept in memory.
func inMemory(dir string) bool {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return false
	}
	const tmpfsMagic, ramfsMagic = 0x01021994, 0x858458f6
	return st.Type == tmpfsMagic || st.Type == ramfsMagic
}
