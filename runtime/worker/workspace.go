package worker

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// A workspace is one invocation's folder below the workspace root. The
// chunk runs in work, which holds its assets and nothing else when the
// command starts; tmp is its TMPDIR, TMP and TEMP. Downloads in progress
// live in base, beside both, so that no asset key can meet them. Removing
// base removes everything.
type workspace struct {
	base string // root/helios-JOB-CHUNK-RANDOM
	work string // base/work: the chunk's working directory
	tmp  string // base/tmp: the chunk's temporary folder

	held  []*cacheEntry // cached files linked into work (guarded by the cache's lock)
	spare *spare        // the spare made while the chunk runs
	lock  *os.File      // base, locked while the chunk lives (nil without flock)

	// decodeLeft is what encoded assets may decode to past their listed
	// sizes: HELIOS_ASSETS_MAX_BYTES less the listed total.
	decodeLeft atomic.Int64
	// stall is Config.AssetsStallTimeout: a download that receives
	// nothing for that long is tried again.
	stall time.Duration
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

// workspacePrefix starts the name of every workspace.
const workspacePrefix = "helios-"

// newWorkspace creates a fresh workspace below root for one invocation.
// Its name carries the job and chunk ids, made safe for a file name, so
// that an operator can tell whose it is.
func newWorkspace(root, jobID string, chunkID int64) (*workspace, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace root %s: %w", root, err)
	}
	// Made under a dotted name, locked, then renamed: a workspace under
	// its own name is always locked while its chunk lives (see removeStale).
	making, err := os.MkdirTemp(root, fmt.Sprintf(".%s%s-%d-", workspacePrefix, safeName(jobID), chunkID))
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
	ws := &workspace{base: base, work: filepath.Join(base, workName), tmp: filepath.Join(base, tmpName), lock: lock}
	for _, d := range []string{ws.work, ws.tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			_ = ws.remove()
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

// remove deletes the workspace and everything in it. A chunk may leave
// directories without write permission; those are made writable and the
// removal is tried again.
func (ws *workspace) remove() error {
	if ws.lock != nil {
		defer ws.lock.Close() // once it is gone
	}
	if err := os.RemoveAll(ws.base); err == nil {
		return nil
	}
	_ = filepath.WalkDir(ws.base, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(ws.base); err != nil {
		return fmt.Errorf("removing workspace %s: %w", ws.base, err)
	}
	return nil
}
