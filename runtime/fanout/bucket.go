package fanout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// A Bucket is a store that a run uploads projects to and collects outputs
// from. The Stores of runtime/s3store and runtime/gcsstore are Buckets.
type Bucket interface {
	store.FolderSource
	store.Sink
	// Matches reports whether obj, as List gave it, holds the size bytes
	// of src, by the store's own checksum.
	Matches(obj store.Object, src io.ReaderAt, size int64) (bool, error)
}

// SyncStats is what [Sync] did.
type SyncStats struct {
	Files, Sent      int   // in the set, and uploaded
	Bytes, SentBytes int64 // in the set, and uploaded
}

// Sync uploads the files of set into the folder at location, as
// `aws s3 sync` does: a file the folder already holds with the same size
// and checksum is not sent again. It puts concurrency files at a time and
// calls sent after each upload. Files in the folder that set does not
// have are left there.
func Sync(ctx context.Context, b Bucket, set *FileSet, location string, concurrency int, sent func(File)) (SyncStats, error) {
	there, err := b.List(ctx, location)
	if err != nil {
		return SyncStats{}, fmt.Errorf("listing %s: %w", location, err)
	}
	have := make(map[string]store.Object, len(there))
	for _, o := range there {
		have[o.Path] = o
	}
	var st SyncStats
	var sentFiles, sentBytes atomic.Int64
	err = forEach(ctx, set.Files, concurrency, func(ctx context.Context, f File) error {
		put, err := syncFile(ctx, b, set.Dir, f, have, store.JoinLocation(location, f.Rel))
		if put {
			sentFiles.Add(1)
			sentBytes.Add(f.Size)
			if sent != nil {
				sent(f)
			}
		}
		return err
	})
	st.Files, st.Bytes = len(set.Files), set.Bytes
	st.Sent, st.SentBytes = int(sentFiles.Load()), sentBytes.Load()
	return st, err
}

// syncFile puts f at target unless have holds it as it is; it reports
// whether it put it.
func syncFile(ctx context.Context, b Bucket, dir string, f File, have map[string]store.Object, target string) (bool, error) {
	file, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Rel)))
	if err != nil {
		return false, fmt.Errorf("uploading %s: %w", f.Rel, err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil || info.Size() != f.Size {
		return false, fmt.Errorf("uploading %s: it changed while the upload ran", f.Rel)
	}
	obj, ok := have[f.Rel]
	return putUnlessThere(ctx, b, obj, ok, file, f.Size, f.Rel, target)
}

// putUnlessThere puts size bytes of src at target unless obj, the object
// listed there (when there is one), holds them already; it reports
// whether it put them. name is what messages call src.
func putUnlessThere(ctx context.Context, b Bucket, obj store.Object, there bool, src io.ReaderAt, size int64, name, target string) (bool, error) {
	if there {
		same, err := b.Matches(obj, src, size)
		if err != nil {
			return false, fmt.Errorf("uploading %s: %w", name, err)
		}
		if same {
			return false, nil
		}
	}
	if err := b.Put(ctx, target, src, size); err != nil {
		return false, fmt.Errorf("uploading %s to %s: %w", name, target, err)
	}
	return true, nil
}

// PutIfChanged puts data at location unless the object there holds it
// already, as [Sync] does for a file; it returns the bytes sent.
func PutIfChanged(ctx context.Context, b Bucket, location string, data []byte) (int64, error) {
	folder, name := folderOf(location)
	objs, err := b.List(ctx, folder)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // no folder: nothing there
		return 0, fmt.Errorf("listing %s: %w", folder, err)
	}
	var obj store.Object
	there := false
	for _, o := range objs {
		if o.Path == name {
			obj, there = o, true
		}
	}
	put, err := putUnlessThere(ctx, b, obj, there, bytes.NewReader(data), int64(len(data)), name, location)
	if !put {
		return 0, err
	}
	return int64(len(data)), err
}

// forEach calls fn for every item, n at a time, and returns the first
// error; after one, the items not yet started are not.
func forEach[T any](ctx context.Context, items []T, n int, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, it); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// folderOf splits an object's location into its folder and its name
// there ("s3://b/o/x.mp4": "s3://b/o", "x.mp4").
func folderOf(location string) (folder, name string) {
	i := strings.LastIndexByte(location, '/')
	return location[:i], location[i+1:]
}
