package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
)

// fetchAssets places the folder at location into the workspace: from the
// asset cache, when the worker keeps one, or downloaded. It lists the
// folder and checks every path and the total size before it writes
// anything, then fetches Config.AssetsConcurrency files at a time. An
// error says why ctx ended, when it did: the chunk's timeout, the assets'
// own, or a cancellation.
func (w *Worker) fetchAssets(ctx context.Context, location string, ws *transfer.Placement) error {
	ctx, cancel := context.WithTimeoutCause(ctx, w.cfg.AssetsTimeout,
		fmt.Errorf("%w: assets took longer than %v (%s)", ErrTimeout, w.cfg.AssetsTimeout, EnvAssetsTimeout))
	defer cancel()
	start := time.Now()
	st, err := w.copyFolder(ctx, location, ws)
	if err != nil {
		return whyStopped(ctx, err)
	}
	attrs := append([]any{"assetsUrl", location}, st.LogAttrs()...)
	w.log().DebugContext(ctx, "assets fetched", append(attrs, "durationMs", float64(time.Since(start).Microseconds())/1000)...)
	return nil
}

// copyFolder places the folder at location into ws through the source
// for its scheme, which must be able to list it, and the asset cache.
func (w *Worker) copyFolder(ctx context.Context, location string, ws *transfer.Placement) (*transfer.Stats, error) {
	loc := store.ParseLocation(location)
	src, err := w.source(loc)
	if err != nil {
		return nil, fmt.Errorf("fetching assets: %w", err)
	}
	fsrc, ok := src.(store.FolderSource)
	if !ok {
		return nil, fault.With(KindSpec, fmt.Errorf("fetching assets %s: the source for %q cannot list a folder", location, loc.Scheme))
	}
	fetch := transfer.Fetch{Source: fsrc, Cache: w.assetCache(ctx), MaxBytes: w.cfg.AssetsMaxBytes,
		Concurrency: w.cfg.AssetsConcurrency, Stall: w.cfg.AssetsStallTimeout}
	return fetch.Folder(ctx, location, ws)
}
