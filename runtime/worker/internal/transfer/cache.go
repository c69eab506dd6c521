package transfer

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Cache keeps the asset files that chunks downloaded, so that the
// next chunks on a warm instance get them without a transfer. A file is
// kept under a name made of its location, listed version and size: an
// object that changed is another file, downloaded again.
//
// A cached file reaches a workspace as a hard link, which costs no copy,
// when no running chunk holds a link to it; otherwise as a copy. What a
// chunk does to its link cannot reach the next chunk: the cache watches
// every file it keeps (inotify), and a file that was written to, opened
// for writing, truncated, or whose mode, time, size or inode changed is
// dropped and downloaded again. Renaming or deleting a link changes
// nothing the cache keeps. Where watching is not possible, files are
// always copied.
type Cache struct {
	dir   string   // this process's folder in the cache folder
	open  *os.File // dir, open: its files are linked and checked from it
	lock  *os.File // held while the process lives: the folder is in use
	limit int64
	watch *watcher // nil: place by copying

	mu      sync.Mutex
	entries map[string]*cacheEntry // by name
	byWatch map[int32]*cacheEntry
	lru     list.List // of *cacheEntry, most recently used first
	size    int64     // bytes of the entries, loading ones included
	last    map[string][]asset
	spare   *spare // the one the next chunk of its folder takes

	// releases counts the chunks that let go of their links; drained is
	// its value at the last drain of the watcher. A chunk's writes are
	// queued by the time it lets go, so that a drain is due only when
	// one did.
	releases, drained uint64
}

// cacheEntry is one kept file.
type cacheEntry struct {
	name    string
	size    int64
	loading chan struct{} // closed once the download ended; nil when ready
	dirty   bool          // its file may have changed
	info    fileID        // what the file was when it entered the cache
	wd      int32
	linked  int // running chunks that hold a hard link to it
	users   int // placements in progress
	elem    *list.Element
}

// CacheDirName is the asset cache's folder below HELIOS_WORKSPACE_ROOT
// when HELIOS_ASSETS_CACHE_DIR is not set.
const CacheDirName = "helios-cache"

// maxDefaultCache caps the default bound of the asset cache.
const maxDefaultCache = 2 << 30

// errMiss stops a speculative placement at the first file that is not
// in the cache.
var errMiss = errors.New("not in the asset cache")

// cacheKey names the file of the object at location in the version the
// listing gave.
func cacheKey(location, version string, size int64) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", location, version, size)
	return hex.EncodeToString(h.Sum(nil)[:20])
}

// OpenCache makes this process's folder in the cache folder dir, after
// removing those of processes that are gone, and sizes the cache: limit,
// or when negative a quarter of the free space of dir's file system, at
// most maxDefaultCache.
func OpenCache(dir string, limit int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating asset cache %s: %w", dir, err)
	}
	removeAbandoned(dir)
	own, lock, err := lockedTempDir(dir)
	if err != nil {
		return nil, fmt.Errorf("creating asset cache in %s: %w", dir, err)
	}
	open, err := os.Open(own)
	if err != nil {
		lock.Close()
		os.RemoveAll(own)
		return nil, fmt.Errorf("opening asset cache: %w", err)
	}
	if limit < 0 {
		limit = min(freeSpace(dir)/4, maxDefaultCache)
	}
	c := &Cache{
		dir: own, open: open, lock: lock, limit: limit,
		entries: map[string]*cacheEntry{}, byWatch: map[int32]*cacheEntry{}, last: map[string][]asset{},
	}
	c.watch, _ = newWatcher() // without it, files are copied
	return c, nil
}

// Close removes the process's folder, and the cache folder too when it
// is left empty; placements stop (they copy nothing from a missing
// folder, and download instead).
func (c *Cache) Close() error {
	c.mu.Lock()
	sp := c.spare
	if sp != nil {
		sp.gone, c.spare = true, nil
	}
	c.mu.Unlock()
	if sp != nil {
		<-sp.done // one being made stops at its next file
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = 0
	for _, e := range c.entries {
		c.dropLocked(e)
	}
	if c.watch != nil {
		c.watch.close()
		c.watch = nil
	}
	err := os.RemoveAll(c.dir)
	c.open.Close() // placements still linking from it keep it open until they are done
	if c.lock != nil {
		c.lock.Close()
	}
	_ = os.Remove(filepath.Dir(c.dir)) // only when empty: another worker may share it
	return err
}

func (c *Cache) path(e *cacheEntry) string { return filepath.Join(c.dir, e.name) }

// target is where a placed file goes: its path, and the same below the
// chunk's working folder, open.
type target struct {
	path string
	work *os.File
	rel  string
}

// placeResult says where a placed file came from.
type placeResult int

const (
	notCached placeResult = iota // the cache could not take it: download it directly
	fromCache
	fromStore // downloaded into the cache by this placement
)

// place puts the object at loc, listed as a, at dst in the workspace ws,
// from the cache or, when it is not there, downloaded into the cache
// first; a chunk that asks for an object that another is downloading
// waits for it. With hitsOnly, a file not in the cache is errMiss.
func (c *Cache) place(ctx context.Context, src store.FolderSource, loc string, a asset, dst target, ws *Placement, hitsOnly bool) (placeResult, error) {
	name := cacheKey(loc, a.version, a.size)
	loaded := false
	for {
		c.mu.Lock()
		if c.releases != c.drained {
			c.drainLocked()
		}
		e := c.entries[name]
		if e != nil && e.loading == nil && !c.validLocked(e) {
			c.dropLocked(e)
			e = nil
		}
		switch {
		case e == nil && hitsOnly, e != nil && e.loading != nil && hitsOnly:
			c.mu.Unlock()
			return notCached, errMiss
		case e == nil:
			e = c.reserveLocked(name, a.size)
			c.mu.Unlock()
			if e == nil {
				return notCached, nil
			}
			if err := c.load(ctx, src, loc, a, e, ws); err != nil {
				return fromStore, err
			}
			loaded = true
		case e.loading != nil:
			wait := e.loading
			c.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return notCached, context.Cause(ctx)
			}
		default:
			ok, err := c.link(e, dst, ws)
			switch {
			case err != nil:
				return notCached, err
			case ok && loaded:
				return fromStore, nil
			case ok:
				return fromCache, nil
			}
		}
	}
}

// link places the ready entry e at dst, with c.mu held on entry and
// released on return: a hard link when no running chunk holds one and
// the cache watches its files, else a copy that is checked once it is
// made. false without an error means the entry was dropped meanwhile.
func (c *Cache) link(e *cacheEntry, dst target, ws *Placement) (bool, error) {
	hard := c.watch != nil && e.linked == 0
	if hard {
		e.linked++
		ws.held = append(ws.held, e)
	}
	e.users++
	c.lru.MoveToFront(e.elem)
	c.mu.Unlock()

	var err error
	if hard {
		err = linkAt(c.open, e.name, dst.work, dst.rel)
	}
	if !hard || err != nil {
		_ = os.Remove(dst.path)
		hard = false
		err = fsutil.CopyFile(c.path(e), dst.path)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if !hard { // a copy is checked: was the file written to while it was read?
		c.drainLocked()
		if e.dirty || !c.validLocked(e) {
			_ = os.Remove(dst.path)
			c.dropLocked(e)
			return false, nil
		}
	}
	return err == nil, err
}

// reserveLocked adds a loading entry of size bytes, evicting the least
// recently used entries that no chunk holds; nil when there is no room.
func (c *Cache) reserveLocked(name string, size int64) *cacheEntry {
	if c.limit <= 0 || size > c.limit {
		return nil
	}
	for c.size+size > c.limit {
		victim := c.evictableLocked()
		if victim == nil && c.dropSpareLocked() {
			continue
		}
		if victim == nil {
			return nil
		}
		c.dropLocked(victim)
	}
	e := &cacheEntry{name: name, size: size, loading: make(chan struct{}), wd: -1}
	e.elem = c.lru.PushFront(e)
	c.entries[name] = e
	c.size += size
	return e
}

func (c *Cache) evictableLocked() *cacheEntry {
	for el := c.lru.Back(); el != nil; el = el.Prev() {
		if e := el.Value.(*cacheEntry); e.loading == nil && e.linked == 0 && e.users == 0 {
			return e
		}
	}
	return nil
}

// load downloads the object into the loading entry e: into a temporary
// file of the cache's folder, renamed to the entry's name once every
// listed byte has come. A download that fails leaves nothing.
func (c *Cache) load(ctx context.Context, src store.FolderSource, loc string, a asset, e *cacheEntry, ws *Placement) error {
	err := downloadTo(ctx, src, loc, a, ws, c.dir, c.path(e))
	var id fileID
	if err == nil {
		id, err = statID(c.path(e))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && c.watch != nil {
		e.wd, err = c.watch.add(c.path(e))
		if err == nil {
			c.byWatch[e.wd] = e
		}
	}
	close(e.loading)
	e.loading = nil
	if err != nil {
		c.dropLocked(e)
		return err
	}
	e.info = id
	c.size += id.size - e.size // a decoded object is larger than listed
	e.size = id.size
	return nil
}

// validLocked reports whether e's file is as it entered the cache: no
// write seen, and the same inode, size, mode and time; no more links
// than the cache's own and its holders' (a link a chunk made elsewhere
// could be written later).
func (c *Cache) validLocked(e *cacheEntry) bool {
	if e.dirty {
		return false
	}
	id, err := statAt(c.open, e.name)
	return err == nil && id.same(e.info) && id.links <= 1+uint64(e.linked)
}

// dropLocked forgets e and removes its file; a workspace that links it
// keeps its own link.
func (c *Cache) dropLocked(e *cacheEntry) {
	if c.entries[e.name] != e {
		return
	}
	delete(c.entries, e.name)
	c.lru.Remove(e.elem)
	c.size -= e.size
	if e.wd >= 0 {
		delete(c.byWatch, e.wd)
		c.watch.remove(e.wd)
	}
	_ = os.Remove(c.path(e))
}

// drainLocked marks dirty the entries whose files were written to since
// the last drain; all of them when events were lost.
func (c *Cache) drainLocked() {
	c.drained = c.releases
	if c.watch == nil {
		return
	}
	c.watch.drain(func(wd int32) {
		if e := c.byWatch[wd]; e != nil {
			e.dirty = true
		}
	}, func() {
		for _, e := range c.entries {
			e.dirty = true
		}
	})
}

// Release ends ws's hold on the entries it links, once its chunk has
// ended, whether it used the cache or not; what the chunk did to them is
// judged when they are next placed.
func (c *Cache) Release(ws *Placement) {
	if ws.spare != nil {
		<-ws.spare.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range ws.held {
		e.linked--
	}
	ws.held = nil
	c.releases++
}

// lastListing returns the listing of folder that the previous chunk
// placed, and remember records one.
func (c *Cache) lastListing(folder string) []asset {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[folder]
}

func (c *Cache) remember(folder string, files []asset) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) > 64 {
		clear(c.last)
	}
	c.last[folder] = files
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Limit is the cache's bound, in bytes.
func (c *Cache) Limit() int64 { return c.limit }

// Links reports whether the cache places files as watched hard links
// (false: as copies).
func (c *Cache) Links() bool { return c.watch != nil }
