package workspace

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// A Pool keeps the workspaces of ended chunks that were left as [New]
// made them, still locked, for the chunks that start while another one
// runs: a rename instead of three folders made and three removed, which
// on a disk mounted with discard is what a chunk costs most. The last
// chunk to end removes them all, so that the workspace root holds nothing
// once no chunk runs, as without the pool. Its zero value is ready.
type Pool struct {
	mu      sync.Mutex
	running int          // chunks between Take and Give
	free    []*Workspace // pristine and locked, under their last chunk's name
	off     int8         // 0: not yet known; 1: the root is in memory, workspaces are not reused; -1: they are
}

// maxPooled bounds the workspaces kept.
const maxPooled = 16

// Take returns a workspace for the chunk: a pooled one renamed for it,
// or a new one. Every Take is followed by one Give.
func (p *Pool) Take(root, jobID string, chunkID int64) (*Workspace, error) {
	p.mu.Lock()
	p.running++
	var ws *Workspace
	if n := len(p.free); n > 0 {
		ws, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if ws != nil {
		base := filepath.Join(root, Prefix+safeName(jobID)+"-"+strconv.FormatInt(chunkID, 10)+"-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		if filepath.Dir(ws.Base) == filepath.Clean(root) && renameNew(ws.Base, base) == nil {
			return &Workspace{Base: base, Work: filepath.Join(base, workName), Tmp: filepath.Join(base, tmpName), lock: ws.lock}, nil
		}
		_ = ws.Remove()
	}
	ws, err := New(root, jobID, chunkID)
	if err != nil {
		_ = p.Give(nil, false)
	}
	return ws, err
}

// renameNew moves a pooled workspace to its new name, never over another.
func renameNew(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return os.ErrExist
	}
	return syscall.Rename(from, to)
}

// Give takes back the workspace of an ended chunk (nil for none): into
// the pool when reuse is set (the caller knows that no process of the
// chunk is left to use it), another chunk runs, and once emptied the
// workspace is as New made it; removed otherwise. The last chunk to end
// removes the pool.
func (p *Pool) Give(ws *Workspace, reuse bool) error {
	p.mu.Lock()
	p.running--
	others := p.running > 0 && len(p.free) < maxPooled
	p.mu.Unlock()
	keep := reuse && others && ws != nil && ws.lock != nil && p.reusing(ws) && ws.emptied()
	p.mu.Lock()
	var drop []*Workspace
	if keep && p.running > 0 {
		p.free = append(p.free, ws)
	} else if ws != nil {
		drop = append(drop, ws)
	}
	if p.running == 0 {
		drop, p.free = append(drop, p.free...), nil
	}
	p.mu.Unlock()
	var first error
	for _, d := range drop {
		if err := d.Remove(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// reusing reports whether workspaces are worth reusing below ws's root:
// not when it is in memory (tmpfs, as Cloud Run's file system is), where
// making three folders costs less than checking an old workspace.
func (p *Pool) reusing(ws *Workspace) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off == 0 {
		p.off = -1
		if inMemory(filepath.Dir(ws.Base)) {
			p.off = 1
		}
	}
	return p.off < 0
}
