package worker

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
)

// ErrOutsideWorkspace is wrapped when an asset path or an outputFile would
// land outside the chunk's workspace.
var ErrOutsideWorkspace = errors.New("outside the workspace")

// asset is one file to download: its path as the store names it, where it
// goes in the workspace, and its listed size.
type asset struct {
	key   string
	local string
	size  int64
}

// fetchAssets downloads the folder at location into the workspace dir. It
// lists the folder and checks every path and the total size before it
// writes anything, then downloads Config.AssetsConcurrency files at a time.
// An error says why ctx ended, when it did: the chunk's timeout, the
// assets' own, or a cancellation.
func (w *Worker) fetchAssets(ctx context.Context, location, dir string) error {
	ctx, cancel := context.WithTimeoutCause(ctx, w.cfg.AssetsTimeout,
		fmt.Errorf("%w: assets took longer than %v (%s)", ErrTimeout, w.cfg.AssetsTimeout, EnvAssetsTimeout))
	defer cancel()
	start := time.Now()
	files, err := w.copyFolder(ctx, location, dir)
	if err != nil {
		return whyStopped(ctx, err)
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	w.log().InfoContext(ctx, "assets fetched", "assetsUrl", location, "files", len(files), "bytes", total,
		"durationMs", time.Since(start).Milliseconds())
	return nil
}

func (w *Worker) copyFolder(ctx context.Context, location, dir string) ([]asset, error) {
	src, err := w.source(location)
	if err != nil {
		return nil, fmt.Errorf("fetching assets: %w", err)
	}
	fsrc, ok := src.(FolderSource)
	if !ok {
		return nil, fmt.Errorf("fetching assets %s: the source for %q cannot list a folder", location, scheme(location))
	}
	objs, err := fsrc.List(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("listing assets %s: %w", location, trimLocation(err, location))
	}
	files, err := planAssets(objs, w.cfg.AssetsMaxBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching assets %s: %w", location, err)
	}
	root, err := os.OpenRoot(dir) // no path below it can climb out, links included
	if err != nil {
		return nil, fmt.Errorf("opening workspace: %w", err)
	}
	defer root.Close()
	if err := downloadAll(ctx, fsrc, location, root, files, w.cfg.AssetsConcurrency); err != nil {
		return nil, fmt.Errorf("fetching assets %s: %w", location, err)
	}
	return files, nil
}

// planAssets checks the listing: every path stays inside the workspace,
// no two objects are the same file or a file and a folder, and the total
// is within limit. It returns the files, largest first.
func planAssets(objs []Object, limit int64) ([]asset, error) {
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
			return nil, fmt.Errorf("asset key %q: %w", o.Path, ErrOutsideWorkspace)
		}
		local = filepath.Clean(local)
		if other, ok := seen[local]; ok {
			return nil, fmt.Errorf("asset keys %q and %q are the same file", other, o.Path)
		}
		if o.Size < 0 {
			return nil, fmt.Errorf("asset key %q: listed with size %d", o.Path, o.Size)
		}
		seen[local] = o.Path
		total += o.Size
		files = append(files, asset{key: o.Path, local: local, size: o.Size})
	}
	if total > limit {
		return nil, fmt.Errorf("%d files of %d bytes in all: %w of %d bytes (%s)", len(files), total, ErrTooLarge, limit, EnvAssetsMaxBytes)
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

// downloadAll downloads files with n transfers at a time; the first error
// stops the others.
func downloadAll(ctx context.Context, src FolderSource, folder string, root *os.Root, files []asset, n int) error {
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
				if err := download(ctx, src, folder, root, files[i]); err != nil {
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

// download writes one file to a temporary name beside its place and
// renames it there once all its bytes have come: a transfer cut off
// halfway leaves no file that looks complete.
func download(ctx context.Context, src FolderSource, folder string, root *os.Root, a asset) error {
	if dir := filepath.Dir(a.local); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("asset %s: %w", a.key, err)
		}
	}
	tmp := a.local + ".helios-partial"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("asset %s: %w", a.key, err)
	}
	loc := JoinLocation(folder, a.key)
	n, err := src.Download(ctx, loc, &sizedWriterAt{w: f, size: a.size})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != a.size {
		err = fmt.Errorf("transfer cut off after %d of %d bytes", n, a.size)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("downloading asset %s: %w", a.key, trimLocation(err, loc))
	}
	if err := root.Rename(tmp, a.local); err != nil {
		return fmt.Errorf("asset %s: %w", a.key, err)
	}
	return nil
}

// sizedWriterAt refuses writes past the size the listing gave, so that an
// object that grew since cannot fill the disk beyond the checked total.
type sizedWriterAt struct {
	w    io.WriterAt
	size int64
}

func (s *sizedWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > s.size {
		return 0, fmt.Errorf("%w: more than the %d bytes listed", ErrTooLarge, s.size)
	}
	return s.w.WriteAt(p, off)
}
