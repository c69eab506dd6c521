package worker

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// newWorkspace creates a fresh directory below root for one invocation.
// Its name carries the job and chunk ids, made safe for a file name, so
// that an operator can tell whose it is.
func newWorkspace(root, jobID string, chunkID int64) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("creating workspace root %s: %w", root, err)
	}
	dir, err := os.MkdirTemp(root, fmt.Sprintf("helios-%s-%d-", safeName(jobID), chunkID))
	if err != nil {
		return "", fmt.Errorf("creating workspace: %w", err)
	}
	return dir, nil
}

// maxJobName bounds the job's part of a workspace's name, which must stay
// short (see tempDirName).
const maxJobName = 10

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if len(s) > maxJobName {
		s = s[:maxJobName]
	}
	if s == "" {
		s = "job"
	}
	return s
}

// removeWorkspace deletes dir and everything in it. A chunk may leave
// directories without write permission; those are made writable and the
// removal is tried again.
func removeWorkspace(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing workspace %s: %w", dir, err)
	}
	return nil
}
