package transfer

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// The settings that bound transfers, named in messages as worker.Config
// reads them from the environment.
const (
	EnvAssetsMaxBytes     = "HELIOS_ASSETS_MAX_BYTES"
	EnvAssetsStallTimeout = "HELIOS_ASSETS_STALL_TIMEOUT"
	EnvUploadStallTimeout = "HELIOS_UPLOAD_STALL_TIMEOUT"
	EnvOutputMaxBytes     = "HELIOS_OUTPUT_MAX_BYTES"
)

// NewPlacement is ws as the asset fetch sees it, with nothing placed yet.
func NewPlacement(ws *workspace.Workspace) *Placement { return &Placement{Workspace: ws} }

// A Fetch places asset folders into chunks' workspaces.
type Fetch struct {
	Source      store.FolderSource
	Cache       *Cache // nil: every file is downloaded
	MaxBytes    int64  // the folder's total, encoded files decoded
	Concurrency int    // files downloaded at once
	Stall       time.Duration
}

// Folder lists the folder at location and places its files into p's
// Work. While the listing is on its way, the files of the folder's
// previous listing are placed from the cache, or the spare made while the
// previous chunk ran is taken and checked; when the listing holds exactly
// those, nothing is left to do. Then it starts making the spare for the
// next chunk. It checks every path and the total size before it writes
// anything.
func (fc Fetch) Folder(ctx context.Context, location string, p *Placement) (*Stats, error) {
	f := &fetch{src: fc.Source, folder: location, ws: p, cache: fc.Cache}
	var sp *spare
	if f.cache != nil {
		sp = f.cache.take(location, p) // first: it replaces p.Work
		var err error
		if f.work, err = os.Open(p.Work); err != nil {
			f.cache.Release(p)
			return nil, fault.With(fault.KindWorker, fmt.Errorf("fetching assets: %w", err))
		}
		defer f.work.Close() // after the guess: confirm and undo wait for it
	}
	g := f.speculate(ctx, sp)
	objs, err := fc.Source.List(ctx, location)
	if err != nil {
		g.undo()
		return nil, fmt.Errorf("listing assets %s: %w", location, msg.TrimLocation(err, location))
	}
	files, err := planAssets(objs, fc.MaxBytes)
	if err != nil {
		g.undo()
		return nil, fault.With(fault.KindSpec, fmt.Errorf("fetching assets %s: %w", location, err))
	}
	left := fc.MaxBytes
	for _, a := range files {
		left -= a.size
	}
	p.decodeLeft.Store(left)
	p.stall = fc.Stall
	if g.confirm(files) {
		f.cache.prepare(location, files, p)
		return &g.f.stats, nil
	}
	if err := f.all(ctx, files, fc.Concurrency, false); err != nil {
		return nil, fmt.Errorf("fetching assets %s: %w", location, err)
	}
	if f.cache != nil {
		f.cache.remember(location, files)
		f.cache.prepare(location, files, p)
	}
	return &f.stats, nil
}

// LogAttrs are the stats as log attributes: files and bytes in all,
// from the cache and downloaded, and whether the spare was taken.
func (st *Stats) LogAttrs() []any {
	return []any{"files", st.cachedFiles.Load() + st.storeFiles.Load(), "bytes", st.cachedBytes.Load() + st.storeBytes.Load(),
		"cachedFiles", st.cachedFiles.Load(), "cachedBytes", st.cachedBytes.Load(),
		"downloadedFiles", st.storeFiles.Load(), "downloadedBytes", st.storeBytes.Load(), "spare", st.spare}
}
