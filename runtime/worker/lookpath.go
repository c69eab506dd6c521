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

// LookPathEnv is [LookPathIn] of file in the last PATH among env's
// entries ("NAME=VALUE"): the PATH that a process started with env over
// this one's environment gets. file is returned as it is when env has no
// PATH, for exec to look up in this process's.
func LookPathEnv(file string, env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if path, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return LookPathIn(file, path)
		}
	}
	return file
}
