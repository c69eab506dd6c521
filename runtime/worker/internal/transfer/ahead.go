package transfer

import (
	"context"
	"os"
	"path/filepath"
	"slices"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// A warm chunk's files are placed ahead of its listing, which is the one
// call to the store that it cannot skip, in one of two ways: from the
// spare that the cache made while the previous chunk of the same folder
// ran, or, when there is none, by linking the previous listing's files
// again. Either is undone when the listing differs.

// speculativeLinks is how many files the guess places at a time: links
// cost a few system calls each, which run in parallel.
const speculativeLinks = 2

// guess is the placement of a folder's previous listing ahead of its
// listing.
type guess struct {
	files []asset
	f     *fetch
	done  chan struct{}
	err   error
}

// speculate starts checking sp, the spare that ws took, or else placing
// from the cache alone the files of the folder's previous listing; nil
// when there is neither.
func (f *fetch) speculate(ctx context.Context, sp *spare) *guess {
	switch {
	case f.cache == nil:
		return nil
	case sp != nil:
		return f.ahead(sp.files, func(gf *fetch) error {
			if err := gf.cache.checkSpare(sp, gf.ws.Work); err != nil {
				return err
			}
			for _, a := range sp.files {
				gf.stats.add(true, a.size)
			}
			gf.stats.spare = true
			return nil
		})
	}
	files := f.cache.lastListing(f.folder)
	if files == nil {
		return nil
	}
	return f.ahead(files, func(gf *fetch) error { return gf.all(ctx, files, speculativeLinks, true) })
}

// ahead runs place, which puts files into the workspace, on a fetch of
// its own.
func (f *fetch) ahead(files []asset, place func(*fetch) error) *guess {
	g := &guess{files: files, f: &fetch{src: f.src, folder: f.folder, ws: f.ws, cache: f.cache, work: f.work}, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		g.err = place(g.f)
	}()
	return g
}

// confirm reports whether the guess placed exactly files; when it did
// not, it undoes what it placed.
func (g *guess) confirm(files []asset) bool {
	if g == nil {
		return false
	}
	<-g.done
	if g.err == nil && slices.Equal(g.files, files) {
		return true
	}
	g.undo()
	return false
}

// undo empties the chunk's folder and lets go of the cached files that
// the guess linked there.
func (g *guess) undo() {
	if g == nil {
		return
	}
	<-g.done
	ws := g.f.ws
	if entries, err := os.ReadDir(ws.Work); err == nil {
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(ws.Work, e.Name()))
		}
	}
	g.f.cache.Release(ws)
}

// A spare is the next chunk's working folder made ahead of it: while a
// chunk's command runs, the files that it was given are hard-linked once
// more, into a folder of the cache, and the next chunk of the same folder
// takes that folder whole, with one rename, instead of linking every file
// before its command can start. What the running chunk, or anything else,
// does to the spare's files or folders meanwhile is found when the spare
// is taken: every path is checked to be a link to its file as that file
// entered the cache, and no folder to hold more than it should. The cache
// keeps one spare, and makes it only where it places hard links.
type spare struct {
	folder string
	files  []asset
	dir    string                 // in the cache's folder
	modes  map[string]os.FileMode // of its folders, by path below dir
	held   []*cacheEntry          // in the order of files
	done   chan struct{}          // closed once made or given up
	ok     bool                   // made whole
	gone   bool                   // replaced or dropped: stop making it (guarded by the cache's lock)
}

// prepare starts making the spare of folder, whose files ws was just
// given, unless the cache holds one already; the chunk waits for it to
// be made when it lets go of its files.
func (c *Cache) prepare(folder string, files []asset, ws *Placement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watch == nil || c.limit <= 0 || ws.spare != nil || c.spare != nil && c.spare.folder == folder {
		return
	}
	old := c.spare
	if old != nil {
		old.gone = true
	}
	sp := &spare{folder: folder, files: files, done: make(chan struct{})}
	c.spare, ws.spare = sp, sp
	go func() {
		defer close(sp.done)
		if old != nil {
			<-old.done
			c.discard(old)
		}
		sp.ok = c.makeSpare(sp) == nil
		if !sp.ok {
			c.discard(sp)
		}
	}()
}

// makeSpare links the spare's files into a new folder of the cache.
func (c *Cache) makeSpare(sp *spare) error {
	dir, err := os.MkdirTemp(c.dir, "s-")
	if err != nil {
		return err
	}
	sp.dir = dir
	if err := mkdirs(dir, sp.files); err != nil {
		return err
	}
	if sp.modes, err = folderModes(dir, sp.files); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, a := range sp.files {
		name := cacheKey(store.JoinLocation(sp.folder, a.key), a.version, a.size)
		c.mu.Lock()
		e := c.entries[name]
		if sp.gone || e == nil || e.loading != nil || e.dirty {
			c.mu.Unlock()
			return errMiss
		}
		e.linked++
		sp.held = append(sp.held, e)
		c.mu.Unlock()
		if err := linkAt(c.open, e.name, d, a.local); err != nil {
			return err
		}
	}
	return nil
}

// discard lets go of the files of a spare that nobody took, and removes
// its folder.
func (c *Cache) discard(sp *spare) {
	c.mu.Lock()
	for _, e := range sp.held {
		e.linked--
	}
	sp.held = nil
	c.mu.Unlock()
	if sp.dir != "" {
		_ = os.RemoveAll(sp.dir)
	}
}

// take moves the spare of folder, when the cache has one, to be ws's
// working folder, and gives ws its files; nil when there is none.
func (c *Cache) take(folder string, ws *Placement) *spare {
	c.mu.Lock()
	sp := c.spare
	if sp == nil || sp.folder != folder {
		c.mu.Unlock()
		return nil
	}
	c.spare = nil
	c.mu.Unlock()
	<-sp.done
	if !sp.ok {
		return nil
	}
	if err := replaceDir(sp.dir, ws.Work); err != nil {
		c.discard(sp)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ws.held = append(ws.held, sp.held...)
	return sp
}

// checkSpare reports whether the spare that was moved to work holds
// exactly its files: each path a link to its file, which is as it
// entered the cache, and no other file or folder.
func (c *Cache) checkSpare(sp *spare, work string) error {
	if !treeHolds(work, sp.files, sp.modes) {
		return errMiss
	}
	d, err := os.Open(work)
	if err != nil {
		return err
	}
	defer d.Close()
	ids := make([]fileID, len(sp.files))
	for i, a := range sp.files {
		if ids[i], err = statAt(d, a.local); err != nil {
			return errMiss
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.releases != c.drained {
		c.drainLocked()
	}
	for i, e := range sp.held {
		if e.dirty || c.entries[e.name] != e || !ids[i].same(e.info) || ids[i].links > 1+uint64(e.linked) {
			return errMiss
		}
		c.lru.MoveToFront(e.elem)
	}
	return nil
}

// folderTree returns, for each folder that files go in (the top one is
// "."), the names of what it holds.
func folderTree(files []asset) map[string]map[string]bool {
	tree := map[string]map[string]bool{".": {}}
	for _, a := range files {
		for p := a.local; p != "."; p = filepath.Dir(p) {
			dir := filepath.Dir(p)
			if tree[dir] == nil {
				tree[dir] = map[string]bool{}
			}
			tree[dir][filepath.Base(p)] = true
		}
	}
	return tree
}

// folderModes returns the modes of the folders below root that files go
// in, as they were made.
func folderModes(root string, files []asset) (map[string]os.FileMode, error) {
	modes := map[string]os.FileMode{}
	for dir := range folderTree(files) {
		fi, err := os.Lstat(filepath.Join(root, dir))
		if err != nil {
			return nil, err
		}
		modes[dir] = fi.Mode()
	}
	return modes, nil
}

// treeHolds reports whether the folders below root are folders, not
// links, in the modes they were made in, and hold the names of files and
// their folders and nothing else.
func treeHolds(root string, files []asset, modes map[string]os.FileMode) bool {
	want := folderTree(files)
	for dir := range want { // every folder is checked, so the order does not matter
		path := filepath.Join(root, dir)
		if fi, err := os.Lstat(path); err != nil || fi.Mode() != modes[dir] {
			return false
		}
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil || len(names) != len(want[dir]) {
			return false
		}
		for _, n := range names {
			if !want[dir][n] {
				return false
			}
		}
	}
	return true
}

// dropSpareLocked lets go of the cache's spare, to make room; false when
// it is still being made (it is then given up, and lets go itself).
func (c *Cache) dropSpareLocked() bool {
	sp := c.spare
	if sp == nil {
		return false
	}
	c.spare, sp.gone = nil, true
	select {
	case <-sp.done:
	default:
		return false
	}
	if sp.ok {
		for _, e := range sp.held {
			e.linked--
		}
		sp.held = nil
		_ = os.RemoveAll(sp.dir)
	}
	return true
}
