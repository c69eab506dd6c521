package merge

import "syscall"

// freeBytes is the space that an unprivileged process may still write on
// dir's file system, and whether it could be read.
func freeBytes(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true //nolint:unconvert // Bsize is an int32 on 32-bit platforms
}
