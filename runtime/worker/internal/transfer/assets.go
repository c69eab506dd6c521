package transfer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// ErrOutsideWorkspace is wrapped when an asset path or an outputFile would
// land outside the chunk's workspace.
var ErrOutsideWorkspace = errors.New("outside the workspace")

// A Placement is a chunk's workspace as the asset fetch sees it: the
// cached files linked into it and the spare made while it runs, which
// the cache releases once the workspace is gone, and the bounds of its
// downloads.
type Placement struct {
	*workspace.Workspace

	held  []*cacheEntry // cached files linked into Work (guarded by the cache's lock)
	spare *spare        // the spare made while the chunk runs

	// decodeLeft is what encoded assets may decode to past their listed
	// sizes: HELIOS_ASSETS_MAX_BYTES less the listed total.
	decodeLeft atomic.Int64
	// stall is Config.AssetsStallTimeout: a download that receives
	// nothing for that long is tried again.
	stall time.Duration
}

// asset is one file to download: its path as the store names it, where it
// goes in the workspace, its listed size and version.
type asset struct {
	key     string
	local   string
	size    int64 // as stored
	version string
	encoded bool // arrives decoded: more than size bytes may come
}

// planAssets checks the listing: every path stays inside the workspace,
// no two objects are the same file or a file and a folder, and the total
// is within limit. It returns the files, largest first.
func planAssets(objs []store.Object, limit int64) ([]asset, error) {
	var (
		files = make([]asset, 0, len(objs))
		seen  = make(map[string]string, len(objs)) // local path -> key
		total int64
	)
	for _, o := range objs {
		if o.Path == "" || strings.HasSuffix(o.Path, "/") {
			continue // the folder's own placeholder objects
		}
		local := filepath.FromSlash(o.Path)
		if !filepath.IsLocal(local) || slices.Contains(strings.Split(o.Path, "/"), "..") {
			return nil, fmt.Errorf("asset key %s: %w", msg.Key(o.Path), ErrOutsideWorkspace)
		}
		local = filepath.Clean(local)
		if err := checkAssetName(local); err != nil {
			return nil, fmt.Errorf("asset key %s: %w", msg.Key(o.Path), err)
		}
		if other, ok := seen[local]; ok {
			return nil, fmt.Errorf("asset keys %q and %q are the same file", other, o.Path)
		}
		if o.Size < 0 {
			return nil, fmt.Errorf("asset key %q: listed with size %d", o.Path, o.Size)
		}
		seen[local] = o.Path
		total += o.Size
		files = append(files, asset{key: o.Path, local: local, size: o.Size, version: o.Version, encoded: o.Encoded})
	}
	if total > limit {
		return nil, fmt.Errorf("%d files of %d bytes in all: %w of %d bytes (%s)", len(files), total, store.ErrTooLarge, limit, EnvAssetsMaxBytes)
	}
	for local, key := range seen {
		for dir := filepath.Dir(local); dir != "."; dir = filepath.Dir(dir) {
			if other, ok := seen[dir]; ok {
				return nil, fmt.Errorf("asset key %q is a file, and %q puts a file below it", other, key)
			}
		}
	}
	slices.SortStableFunc(files, func(a, b asset) int { return cmp.Compare(b.size, a.size) })
	return files, nil
}

// maxAssetPath bounds an asset's path below the workspace: with the
// workspace's own path (HELIOS_WORKSPACE_ROOT and about 40 bytes) it must
// stay under Linux's PATH_MAX of 4096 bytes.
const maxAssetPath = 3072

// checkAssetName refuses, before anything is downloaded, a cleaned asset
// path that no file can have.
func checkAssetName(local string) error {
	switch {
	case local == ".":
		return errors.New("names the folder itself, not a file in it")
	case strings.ContainsRune(local, 0):
		return errors.New("holds a NUL byte, which no file name can")
	case len(local) > maxAssetPath:
		return fmt.Errorf("is %d bytes long, over the %d bytes an asset's path may have", len(local), maxAssetPath)
	}
	for seg := range strings.SplitSeq(local, string(filepath.Separator)) {
		if len(seg) > 255 {
			return fmt.Errorf("has a name of %d bytes, over the 255 a file name may have", len(seg))
		}
	}
	return nil
}

// Stats counts where a chunk's asset files came from.
type Stats struct {
	cachedFiles, storeFiles atomic.Int64
	cachedBytes, storeBytes atomic.Int64
	spare                   bool // the folder was the spare made while the previous chunk ran
}

// add counts one file of size bytes, from the cache or from the store.
func (st *Stats) add(cached bool, size int64) {
	files, bytes := &st.storeFiles, &st.storeBytes
	if cached {
		files, bytes = &st.cachedFiles, &st.cachedBytes
	}
	files.Add(1)
	bytes.Add(size)
}

// fetch places the files of one folder into one workspace.
type fetch struct {
	src    store.FolderSource
	folder string
	ws     *Placement
	cache  *Cache   // nil: download every file
	work   *os.File // ws.Work, open, when there is a cache
	stats  Stats
}

// all places files with n at a time; the first error stops the others.
// With hitsOnly, a file not in the cache is errMiss.
func (f *fetch) all(ctx context.Context, files []asset, n int, hitsOnly bool) error {
	if err := mkdirs(f.ws.Work, files); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range min(n, len(files)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(files)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				if err := f.one(ctx, files[i], hitsOnly); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// mkdirs makes the folders below root that files go in, each once,
// parents first.
func mkdirs(root string, files []asset) error {
	made := map[string]bool{".": true}
	var mk func(dir, key string) error
	mk = func(dir, key string) error {
		if made[dir] {
			return nil
		}
		if err := mk(filepath.Dir(dir), key); err != nil {
			return err
		}
		made[dir] = true
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("asset %s: %w", key, err)
		}
		return nil
	}
	for _, a := range files {
		if err := mk(filepath.Dir(a.local), a.key); err != nil {
			return err
		}
	}
	return nil
}

// one places a single file: from the cache when it holds the file's
// listed version (with hitsOnly, only then), else downloaded.
func (f *fetch) one(ctx context.Context, a asset, hitsOnly bool) error {
	dst := filepath.Join(f.ws.Work, a.local)
	loc := store.JoinLocation(f.folder, a.key)
	if f.cache != nil && a.version != "" {
		got, err := f.cache.place(ctx, f.src, loc, a, target{path: dst, work: f.work, rel: a.local}, f.ws, hitsOnly)
		if err != nil {
			return fmt.Errorf("downloading asset %s: %w", a.key, msg.TrimLocation(err, loc))
		}
		if got != notCached {
			f.stats.add(got == fromCache, a.size)
			return nil
		}
	}
	if hitsOnly {
		return errMiss
	}
	if err := downloadTo(ctx, f.src, loc, a, f.ws, f.ws.Base, dst); err != nil {
		return fmt.Errorf("downloading asset %s: %w", a.key, msg.TrimLocation(err, loc))
	}
	f.stats.add(false, a.size)
	return nil
}

// downloadTo writes the object at loc to a temporary file in tmpDir and
// renames it to dst once all its listed bytes have come: a transfer cut
// off halfway leaves no file that looks complete, and the temporary
// name, outside the chunk's folder, cannot meet an asset's.
func downloadTo(ctx context.Context, src store.FolderSource, loc string, a asset, ws *Placement, tmpDir, dst string) error {
	for try := 0; ; try++ {
		got, err := downloadOnce(ctx, src, loc, a, ws, tmpDir, dst)
		if !errors.Is(err, errDownloadStalled) || ctx.Err() != nil {
			return err
		}
		if try == stallRetries {
			return fmt.Errorf("stalled: nothing came for %v, %d times; the last time after %d of %d bytes (%s): %w",
				ws.stall, try+1, got, a.size, EnvAssetsStallTimeout, fault.ErrTimeout)
		}
	}
}

// downloadOnce is one try of downloadTo, cut with errDownloadStalled when
// nothing comes for ws.stall; it returns how many bytes came.
func downloadOnce(ctx context.Context, src store.FolderSource, loc string, a asset, ws *Placement, tmpDir, dst string) (int64, error) {
	f, err := os.CreateTemp(tmpDir, "dl-")
	if err != nil {
		return 0, err
	}
	err = f.Chmod(0o644) // what the asset is in the store: a file the chunk may read and write
	w := &sizedWriterAt{w: f, size: a.size, encoded: a.encoded, left: &ws.decodeLeft}
	var n int64
	if err == nil {
		dctx, cancel := context.WithCancelCause(ctx)
		stop := watchStall(dctx, cancel, &w.last, ws.stall, errDownloadStalled)
		if vs, ok := src.(store.VersionedSource); ok && a.version != "" {
			n, err = vs.DownloadVersion(dctx, loc, a.version, w)
		} else {
			n, err = src.Download(dctx, loc, w)
		}
		stop()
		if err != nil && errors.Is(context.Cause(dctx), errDownloadStalled) {
			err = errDownloadStalled
		}
		cancel(nil)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != a.size && !a.encoded { // a decoded object's length is known only once it came
		err = fmt.Errorf("transfer cut off after %d of %d bytes", n, a.size)
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return w.wrote.Load(), err
}

// sizedWriterAt refuses writes past the size the listing gave, so that an
// object that grew since cannot fill the disk beyond the checked total.
// An encoded object may decode to more: what it writes past its stored
// size is taken from left, what HELIOS_ASSETS_MAX_BYTES leaves over the
// listed total, so that a gzip bomb is cut off.
type sizedWriterAt struct {
	w       io.WriterAt
	size    int64
	encoded bool
	left    *atomic.Int64

	mu   sync.Mutex
	high int64 // the end of what an encoded object wrote so far

	last  atomic.Int64 // UnixNano of the last write: the download moves
	wrote atomic.Int64 // bytes written
}

func (s *sizedWriterAt) WriteAt(p []byte, off int64) (int, error) {
	s.last.Store(time.Now().UnixNano())
	s.wrote.Add(int64(len(p)))
	end := off + int64(len(p))
	if end > s.size {
		if !s.encoded {
			// The object changed since it was listed: a new listing may pass.
			return 0, fault.With(fault.KindStore, fmt.Errorf("%w: more than the %d bytes listed", store.ErrTooLarge, s.size))
		}
		if err := s.grow(end); err != nil {
			return 0, err
		}
	}
	return s.w.WriteAt(p, off)
}

// grow takes what an encoded object's write to end adds past its stored
// size from the chunk's allowance.
func (s *sizedWriterAt) grow(end int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := max(s.high, s.size)
	if end <= from {
		return nil
	}
	if s.left.Add(from-end) < 0 {
		return fmt.Errorf("%w: decoded to more than %d bytes, past what %s leaves for the folder", store.ErrTooLarge, end, EnvAssetsMaxBytes)
	}
	s.high = end
	return nil
}

// Holds reports whether p holds files of the cache or a spare: its
// workspace is then not as it was made, whatever its folders show.
func (p *Placement) Holds() bool { return p.spare != nil || len(p.held) > 0 }
