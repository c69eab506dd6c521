package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// measureWarm measures the asset cache on S3 (moto_server) and GCS
// (fake-gcs-server) with a folder of o.warmFiles files, o.warmBytes in
// all: the preparation of a warm worker's next chunk against listing the
// folder alone and against the first chunk's, then the peak RSS of the
// Cloud Run binary with the cache on and off.
func measureWarm(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	dir = filepath.Join(dir, "warm")
	folder := filepath.Join(dir, "folder")
	if err := writeFolder(folder, o.warmFiles, o.warmBytes); err != nil {
		return err
	}
	st, err := startStores(ctx, "helios-warm")
	if err != nil {
		return err
	}
	defer st.close()
	what := fmt.Sprintf("%d files, %s", o.warmFiles, size(o.warmBytes))
	for _, s := range []*storeBench{st.s3, st.gcs} {
		if err := uploadFolder(ctx, s, folder, "warm"); err != nil {
			return err
		}
		if err := warmPreparation(ctx, r, s, dir, what, o); err != nil {
			return err
		}
	}
	return warmRSS(ctx, r, b, j, dir, st.gcs, st.fake, what)
}

// writeFolder writes n files of total bytes in all into dir.
func writeFolder(dir string, n int, total int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		if err := writeSized(filepath.Join(dir, fmt.Sprintf("f%03d.bin", i)), total/int64(n)); err != nil {
			return err
		}
	}
	return nil
}

// warmPreparation times, in the worker's own "assets fetched" figure,
// the first chunk of fresh workers (the cache empty) and the next chunks
// of one warm worker, and the store's listing of the same folder alone.
func warmPreparation(ctx context.Context, r *report, s *storeBench, dir, what string, o options) error {
	spec, err := s.writeSpec(ctx, dir, map[string]any{"assetsUrl": s.url("warm"),
		"chunks": []map[string]any{{"id": 0, "command": "true"}}})
	if err != nil {
		return err
	}
	timer := &transferTimer{}
	newWorker := func(root string) *worker.Worker {
		cfg := worker.DefaultConfig()
		cfg.WorkspaceRoot, cfg.AssetsTimeout, cfg.AssetsCacheBytes = root, time.Hour, 1<<30
		return worker.New(cfg, worker.WithSource(s.scheme, s.store), worker.WithLogger(slog.New(timer)),
			worker.WithPassthrough(io.Discard, io.Discard))
	}
	var cold, warm, list []time.Duration
	var w *worker.Worker
	for i := range o.storeRuns {
		root := filepath.Join(dir, fmt.Sprintf("root-%s-%d", s.scheme, i))
		w = newWorker(root)
		d, err := timer.run(ctx, w, spec, "assets fetched")
		if err != nil {
			return err
		}
		cold = append(cold, d)
		if i < o.storeRuns-1 {
			os.RemoveAll(root)
		}
	}
	lister := s.store.(store.FolderSource)
	for range 3 * o.warmRuns { // alternating, so that both see the same noise
		d, err := timer.run(ctx, w, spec, "assets fetched")
		if err != nil {
			return err
		}
		warm = append(warm, d)
		d, err = timed(func() error { _, err := lister.List(ctx, s.url("warm")); return err })
		if err != nil {
			return err
		}
		list = append(list, d)
	}
	c, wm, l := median(cold), median(warm), median(list)
	r.add(s.name+": warm chunk's asset preparation, "+what, ms(wm), "listing alone: "+ms(l),
		fmt.Sprintf("%.2f of the listing (target ≤ 1.2)", float64(wm)/float64(l)))
	r.add(s.name+": warm chunk's asset preparation, "+what, ms(wm), "first chunk: "+ms(c),
		fmt.Sprintf("%.3f of the first chunk (target ≤ 0.1)", float64(wm)/float64(c)))
	return nil
}

// warmRSS is the peak RSS of the Cloud Run binary through two chunks of
// the folder, with the cache on and off.
func warmRSS(ctx context.Context, r *report, b binaries, j jobs, dir string, gcs *storeBench, fake *fakeGCS, what string) error {
	spec, err := gcs.writeSpec(ctx, dir, map[string]any{"assetsUrl": gcs.url("warm"),
		"chunks": []map[string]any{{"id": 0, "command": "true"}}})
	if err != nil {
		return err
	}
	peak := map[bool]int64{}
	for _, on := range []bool{false, true} {
		limit := "0"
		if on {
			limit = "1073741824"
		}
		root := filepath.Join(dir, fmt.Sprintf("rss-%v", on))
		srv, _, err := startServer(ctx, b.cloudrun, root, j.event(chunkTrue), fake.env(), worker.EnvAssetsCacheBytes+"="+limit)
		if err != nil {
			return err
		}
		client := &http.Client{Timeout: 10 * time.Minute}
		for range 2 {
			if err := srv.post(client, []byte(fmt.Sprintf(`{"jobPath":%q,"chunkIndex":0}`, spec))); err != nil {
				srv.stop()
				return fmt.Errorf("cloud run, cache on %v: %w", on, err)
			}
		}
		peak[on], err = procStatus(srv.cmd.Process.Pid, "VmHWM")
		srv.stop()
		if err != nil {
			return err
		}
	}
	r.add("peak RSS, Cloud Run binary, GCS, two chunks of "+what+", asset cache on", mib(peak[true]),
		"cache off: "+mib(peak[false]), fmt.Sprintf("%.2f (target ≤ 1.10)", float64(peak[true])/float64(peak[false])))
	return nil
}
