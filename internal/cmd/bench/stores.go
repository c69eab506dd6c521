package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// storeBench is one bucket store under measurement, with the raw SDK
// doing the same transfers as the baseline.
type storeBench struct {
	name   string // "S3 (moto_server)"
	scheme string // s3 or gs
	bucket string
	store  store.Source
	// put stores a local file as bucket/key.
	put func(ctx context.Context, key, file string) error
	// rawDownload copies every object below prefix into dir, as the SDK
	// alone would; rawUpload stores file as key.
	rawDownload func(ctx context.Context, prefix, dir string) error
	rawUpload   func(ctx context.Context, file, key string) error
}

func (s *storeBench) url(key string) string { return s.scheme + "://" + s.bucket + "/" + key }

// storeFiles are the local files the transfers start from.
type storeFiles struct {
	smallDir string // 200 files of 256 KiB
	bigFile  string // one file of options.assetBig bytes
	output   string // the chunk output of options.outputBytes
}

func writeStoreFiles(dir string, o options) (storeFiles, error) {
	f := storeFiles{smallDir: filepath.Join(dir, "small"), bigFile: filepath.Join(dir, "big.bin"), output: filepath.Join(dir, "output.bin")}
	if err := writeFolder(f.smallDir, 200, 200*256<<10); err != nil {
		return f, err
	}
	if err := writeSized(f.bigFile, o.assetBig); err != nil {
		return f, err
	}
	return f, writeSized(f.output, o.outputBytes)
}

// writeSized writes n bytes that do not compress.
func writeSized(name string, n int64) error {
	out, err := os.Create(name)
	if err != nil {
		return err
	}
	_, err = io.CopyN(out, newNoise(), n)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// measureStores runs measureStore on S3 and GCS, then uploadRSS.
func measureStores(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	dir = filepath.Join(dir, "stores")
	files, err := writeStoreFiles(dir, o)
	if err != nil {
		return err
	}
	st, err := startStores(ctx, "helios-bench")
	if err != nil {
		return err
	}
	defer st.close()
	for _, s := range []*storeBench{st.s3, st.gcs} {
		if err := measureStore(ctx, r, s, files, dir, o); err != nil {
			return err
		}
	}
	return transferRSS(ctx, r, b, j, dir, files.output, o, st.s3, st.gcs, st.moto, st.fake)
}

// stores are moto_server and fake-gcs-server, each with a bucket, and
// the store benches over them.
type stores struct {
	moto    *s3test.Server
	fake    *fakeGCS
	s3, gcs *storeBench
}

// startStores starts both servers and makes bucket in each.
func startStores(ctx context.Context, bucket string) (_ *stores, err error) {
	st := &stores{}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if st.moto, err = s3test.New(); err != nil {
		return nil, err
	}
	if st.fake, err = startFakeGCS(); err != nil {
		return nil, err
	}
	if st.s3, err = s3Bench(ctx, st.moto, bucket); err != nil {
		return nil, err
	}
	if st.gcs, err = gcsBench(ctx, st.fake, bucket); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *stores) close() {
	if st.fake != nil {
		st.fake.stop()
	}
	if st.moto != nil {
		st.moto.Close()
	}
}

// measureStore uploads the asset folders, then times the worker's
// downloads and upload against the raw SDK's, alternating, o.storeRuns
// times each, and reports the medians.
func measureStore(ctx context.Context, r *report, s *storeBench, files storeFiles, dir string, o options) error {
	if err := uploadFolder(ctx, s, files.smallDir, "assets/small"); err != nil {
		return err
	}
	if err := s.put(ctx, "assets/big/"+filepath.Base(files.bigFile), files.bigFile); err != nil {
		return err
	}
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot, cfg.AssetsTimeout = dir, time.Hour
	cfg.AssetsCacheBytes = 0 // every run downloads: what is measured here
	timer := &transferTimer{}
	w := worker.New(cfg, worker.WithSource(s.scheme, s.store), worker.WithLogger(slog.New(timer)),
		worker.WithPassthrough(io.Discard, io.Discard))
	cases := []struct {
		what, prefix string
		bytes        int64
	}{
		{"200 files of 256 KiB", "assets/small", 200 * 256 << 10},
		{fmt.Sprintf("one file of %s", size(o.assetBig)), "assets/big", o.assetBig},
	}
	for _, c := range cases {
		spec, err := s.writeSpec(ctx, dir, map[string]any{"assetsUrl": s.url(c.prefix),
			"chunks": []map[string]any{{"id": 0, "command": "true"}}})
		if err != nil {
			return err
		}
		mine := func() (time.Duration, error) { return timer.run(ctx, w, spec, "assets fetched") }
		raw := func() error { return s.rawDownload(ctx, c.prefix, filepath.Join(dir, "raw")) }
		if err := compare(r, s.name+": asset download, "+c.what, c.bytes, o.storeRuns, mine, raw, "raw SDK"); err != nil {
			return err
		}
	}
	spec, err := s.writeSpec(ctx, dir, map[string]any{"outputUrl": s.url("out-worker"),
		"chunks": []map[string]any{{"id": 0, "command": "ln " + files.output + " out.bin", "outputFile": "out.bin"}}})
	if err != nil {
		return err
	}
	mine := func() (time.Duration, error) { return timer.run(ctx, w, spec, "output uploaded") }
	raw := func() error { return s.rawUpload(ctx, files.output, "out-raw/out.bin") }
	return compare(r, fmt.Sprintf("%s: upload of a %s output", s.name, size(o.outputBytes)), o.outputBytes, o.storeRuns, mine, raw, s.rawUploadName())
}

func (s *storeBench) rawUploadName() string {
	if s.scheme == "s3" {
		return "raw transfer manager, default options"
	}
	return "raw storage/v1 resumable upload, the same 8 MiB chunks"
}

// writeSpec stores a job spec in the bucket and returns its location.
func (s *storeBench) writeSpec(ctx context.Context, dir string, spec map[string]any) (string, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", err
	}
	key := fmt.Sprintf("jobs/%d.json", time.Now().UnixNano())
	return s.url(key), s.put(ctx, key, file)
}

func uploadFolder(ctx context.Context, s *storeBench, dir, prefix string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := s.put(ctx, prefix+"/"+e.Name(), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// transferTimer is the worker's log handler: it keeps the durationMs of
// the "assets fetched" and "output uploaded" lines, which time the
// worker's transfers alone (not the spec, the exec or the workspace).
type transferTimer struct {
	mu   sync.Mutex
	last map[string]time.Duration
}

func (h *transferTimer) Enabled(context.Context, slog.Level) bool { return true }
func (h *transferTimer) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *transferTimer) WithGroup(string) slog.Handler            { return h }

func (h *transferTimer) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "durationMs" {
			var d time.Duration
			switch a.Value.Kind() {
			case slog.KindFloat64:
				d = time.Duration(a.Value.Float64() * float64(time.Millisecond))
			case slog.KindInt64:
				d = time.Duration(a.Value.Int64()) * time.Millisecond
			}
			h.mu.Lock()
			if h.last == nil {
				h.last = map[string]time.Duration{}
			}
			h.last[r.Message] = d
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

// run runs the spec's chunk and returns the duration that the worker
// logged with message.
func (h *transferTimer) run(ctx context.Context, w *worker.Worker, spec, message string) (time.Duration, error) {
	h.mu.Lock()
	delete(h.last, message)
	h.mu.Unlock()
	res := w.Run(ctx, jobspec.Request{JobPath: spec})
	if !res.OK() {
		return 0, fmt.Errorf("worker: %s (stderr %q)", res.Message(), res.Stderr)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.last[message]
	if !ok {
		return 0, fmt.Errorf("worker logged no %q", message)
	}
	return d, nil
}

// compare times mine (which says how long its transfer took) and raw,
// alternating, runs times each, and reports the median throughputs, their
// ratio, and what mine allocated per run.
func compare(r *report, what string, bytes int64, runs int, mine func() (time.Duration, error), raw func() error, rawName string) error {
	var tMine, tRaw []time.Duration
	var alloc uint64
	for range runs {
		d, err := timed(raw)
		if err != nil {
			return fmt.Errorf("%s, %s: %w", what, rawName, err)
		}
		tRaw = append(tRaw, d)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d, err = mine()
		if err != nil {
			return fmt.Errorf("%s, worker: %w", what, err)
		}
		runtime.ReadMemStats(&after)
		alloc = max(alloc, after.TotalAlloc-before.TotalAlloc)
		tMine = append(tMine, d)
	}
	mbps := func(d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }
	m, b := median(tMine), median(tRaw)
	r.add(what, fmt.Sprintf("%.0f MB/s, %s allocated", mbps(m), size(int64(alloc))),
		fmt.Sprintf("%.0f MB/s (%s)", mbps(b), rawName), fmt.Sprintf("%.2f of the baseline", mbps(m)/mbps(b)))
	return nil
}

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// noise is a fast stream of bytes that do not compress.
type noise struct{ x uint64 }

func newNoise() *noise { return &noise{x: 0x9E3779B97F4A7C15} }

func (n *noise) Read(p []byte) (int, error) {
	var word [8]byte
	for i := 0; i < len(p); i += 8 {
		n.x ^= n.x << 13
		n.x ^= n.x >> 7
		n.x ^= n.x << 17
		binary.LittleEndian.PutUint64(word[:], n.x)
		copy(p[i:], word[:])
	}
	return len(p), nil
}
