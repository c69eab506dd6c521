package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// flatSource lists n files of one byte and serves them; List costs
// nothing, so that a benchmark sees the placement alone.
type flatSource struct{ n int }

func (s flatSource) Open(context.Context, string) (io.ReadCloser, error) { return nil, ErrNotFound }

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
	cfg := DefaultConfig()
	cfg.WorkspaceRoot = b.TempDir()
	w := New(cfg, WithSource("s3", flatSource{300}), WithLogger(slog.New(slog.DiscardHandler)))
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		dir, err := workspace.New(cfg.WorkspaceRoot, "bench", int64(i))
		ws := &placement{Workspace: dir}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.copyFolder(ctx, "s3://b/assets", ws); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := ws.Remove(); err != nil {
			b.Fatal(err)
		}
		w.assetCache(ctx).release(ws)
		b.StartTimer()
	}
}
