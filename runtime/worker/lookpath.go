package worker

import (
	"os"
	"path/filepath"
	"strings"
)

// LookPathIn returns the executable that file names in the folders of
// path (a PATH value), as a shell would find it: file itself when it
// holds a slash, and also when no absolute folder of path holds an
// executable file of that name, so that running it fails as exec says.
// exec.LookPath searches this process's PATH only; a chunk or a merge
// whose PATH is its own needs this.
func LookPathIn(file, path string) string {
	if strings.Contains(file, "/") {
		return file
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue // exec refuses what a relative folder finds (exec.ErrDot)
		}
		name := filepath.Join(dir, file)
		if info, err := os.Stat(name); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return name
		}
	}
	return file
}

// pathOf is the value of the last PATH among env's entries, and whether
// there is one.
func pathOf(env []string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v, true
		}
	}
	return "", false
}
