package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A Workspace is one invocation's folder below the workspace root. The
// chunk runs in Work, which holds its assets and nothing else when the
// command starts; Tmp is its TMPDIR, TMP and TEMP. Downloads in progress
// live in Base, beside both, so that no asset key can meet them. Removing
// Base removes everything.
type Workspace struct {
	Base string // root/helios-JOB-CHUNK-RANDOM
	Work string // Base/work: the chunk's working directory
	Tmp  string // Base/tmp: the chunk's temporary folder

	lock *os.File // Base, locked while the chunk lives (nil without flock)
}

// Names of the folders in a workspace. tmpName is kept short: Chromium
// puts a Unix socket in TMPDIR (org.chromium.Chromium.XXXXXX/SingletonSocket),
// and a socket's path must fit in 107 bytes, or Chromium aborts. With the
// workspace's short name, that leaves 20 characters for
// HELIOS_WORKSPACE_ROOT (chunk ids of up to six digits).
const (
	workName = "work"
	tmpName  = "tmp"
)

// Prefix starts the name of every workspace.
const Prefix = "helios-"

// New creates a fresh workspace below root for one invocation.
// Its name carries the job and chunk ids, made safe for a file name, so
// that an operator can tell whose it is.
func New(root, jobID string, chunkID int64) (*Workspace, error) {
	// Made under a dotted name, locked, then renamed: a workspace under
	// its own name is always locked while its chunk lives (see RemoveStale).
	pattern := fmt.Sprintf(".%s%s-%d-", Prefix, safeName(jobID), chunkID)
	making, err := os.MkdirTemp(root, pattern)
	if errors.Is(err, fs.ErrNotExist) { // the root is made on first use, not looked at every time
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("creating workspace root %s: %w", root, err)
		}
		making, err = os.MkdirTemp(root, pattern)
	}
	if err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	lock, err := lockDir(making)
	base := filepath.Join(root, filepath.Base(making)[1:])
	if err == nil {
		err = os.Rename(making, base)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		_ = os.RemoveAll(making)
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	ws := &Workspace{Base: base, Work: filepath.Join(base, workName), Tmp: filepath.Join(base, tmpName), lock: lock}
	for _, d := range []string{ws.Work, ws.Tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			_ = ws.Remove()
			return nil, fmt.Errorf("creating workspace: %w", err)
		}
	}
	return ws, nil
}

// maxJobName bounds the job's part of a workspace's name, which must stay
// short (see tmpName).
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

// Remove deletes the workspace and everything in it. A chunk may leave
// directories without write permission; those are made writable and the
// removal is tried again.
func (ws *Workspace) Remove() error {
	if ws.lock != nil {
		defer ws.lock.Close() // once it is gone
	}
	// What a chunk leaves is most often nothing: three rmdir then, where
	// RemoveAll would open and read each folder. Anything else (a file,
	// a link in place of a folder, a download's leftovers) makes one of
	// them fail, and RemoveAll removes the rest.
	if ws.Work != "" && syscall.Rmdir(ws.Work) == nil && syscall.Rmdir(ws.Tmp) == nil && syscall.Rmdir(ws.Base) == nil {
		return nil
	}
	if err := os.RemoveAll(ws.Base); err == nil {
		return nil
	}
	_ = filepath.WalkDir(ws.Base, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(ws.Base); err != nil {
		return fmt.Errorf("removing workspace %s: %w", ws.Base, err)
	}
	return nil
}
