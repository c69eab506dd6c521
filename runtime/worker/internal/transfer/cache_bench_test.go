package transfer

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// flatSource lists n files of one byte and serves them; List costs
// nothing, so that a benchmark sees the placement alone.
type flatSource struct{ n int }

func (s flatSource) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, store.ErrNotFound
}

func (s flatSource) List(context.Context, string) ([]store.Object, error) {
	objs := make([]store.Object, s.n)
	for i := range objs {
		objs[i] = store.Object{Path: fmt.Sprintf("d%d/f%03d.bin", i%10, i), Size: 1, Version: "v1"}
	}
	return objs, nil
}

func (s flatSource) Download(_ context.Context, _ string, dst io.WriterAt) (int64, error) {
	n, err := dst.WriteAt([]byte{1}, 0)
	return int64(n), err
}

// BenchmarkWarmAssets is the preparation of a warm chunk's 300 assets,
// the listing aside: what the cache adds to it.
func BenchmarkWarmAssets(b *testing.B) {
	root := b.TempDir()
	cache, err := OpenCache(filepath.Join(root, CacheDirName), 2<<30)
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	fetch := Fetch{Source: flatSource{300}, Cache: cache, MaxBytes: 1 << 30, Concurrency: 16}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		dir, err := workspace.New(root, "bench", int64(i))
		if err != nil {
			b.Fatal(err)
		}
		ws := NewPlacement(dir)
		if _, err := fetch.Folder(ctx, "s3://b/assets", ws); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := ws.Remove(); err != nil {
			b.Fatal(err)
		}
		cache.Release(ws)
		b.StartTimer()
	}
}
