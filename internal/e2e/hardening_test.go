package e2e

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// testHardening runs, through w's worker and store, what a hostile or
// careless job, or a store that hangs, must not do to a worker (issue
// #18): each case with a new worker that must still serve a good chunk
// afterwards and leave no workspace. It needs testBuckets's objects.
func testHardening(t *testing.T, w *bucketWorld) {
	job := newRenderJob(t)
	for rel, data := range job.assets {
		w.put(t, jobsBucket, "projects/pinned/"+rel, data)
	}
	w.put(t, jobsBucket, "jobs/pinned.json", job.spec(t, w.url(jobsBucket, "projects/pinned"), ""))
	long := strings.Repeat("n", 255)
	w.put(t, jobsBucket, "names/a.bin", []byte("first\n"))
	w.put(t, jobsBucket, "names/a.bin.helios-partial", []byte("second\n"))
	w.put(t, jobsBucket, "names/"+long, []byte("long\n"))
	w.put(t, jobsBucket, "jobs/names.json", oneChunk(w.url(jobsBucket, "names"), "cat *"))
	w.put(t, jobsBucket, "toolong/"+long+"x", []byte("x"))
	w.put(t, jobsBucket, "jobs/toolong.json", oneChunk(w.url(jobsBucket, "toolong"), "true"))
	w.put(t, jobsBucket, "jobs/oom.json", oneChunk("", "cat /proc/self/oom_score_adj"))

	zero := 0
	intact := func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
		if !strings.Contains(r.Stdout, "assets intact") {
			t.Errorf("stdout %q: the assets were not intact", r.Stdout)
		}
	}
	noObject := func(key string) func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
		return func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
			if _, ok := w.get(t, outBucket, key); ok {
				t.Errorf("%s was uploaded", key)
			}
		}
	}
	cases := []bucketCase{
		{name: "asset keys like the worker's temporary files, and of 255 bytes", jobPath: "jobs/names.json", status: 200, exit: &zero,
			check: func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
				if want := "first\nsecond\nlong\n"; r.Stdout != want {
					t.Errorf("stdout %q, want %q: an asset overwrote another", r.Stdout, want)
				}
			}},
		{name: "asset name over 255 bytes", jobPath: "jobs/toolong.json", status: 500,
			message: []string{`asset key "` + long[:64] + `"…: has a name of 256 bytes, over the 255`}},
		{name: "the chunk is the OOM killer's first pick", jobPath: "jobs/oom.json", status: 200, exit: &zero,
			check: func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
				if r.Stdout != "1000\n" {
					t.Errorf("the chunk's oom_score_adj is %q, want 1000", r.Stdout)
				}
			}},
		{name: "outputFile over " + worker.EnvOutputMaxBytes, jobPath: "jobs/job-42.json", status: 500, exit: &zero,
			env:     []string{worker.EnvOutputMaxBytes + "=1000000", worker.EnvOutputURL + "=" + w.url(outBucket, "big")},
			message: []string{"outputFile out_part_0.mp4 is 9437", "of 1000000 bytes (" + worker.EnvOutputMaxBytes + ")"},
			check:   noObject("big/out_part_0.mp4")},
		{name: "workspaces of a killed worker", jobPath: "jobs/small.json", status: 200, exit: &zero,
			prepare: leaveStaleWorkspaces},
		{name: "store hangs once midway through a download", jobPath: "jobs/job-42.json", status: 200, exit: &zero,
			env:  []string{worker.EnvAssetsStallTimeout + "=1s"},
			stop: func(p *faultproxy.Proxy) { p.StallAfter(faultproxy.Downstream, 6<<20, false) }, check: intact},
		{name: "store hangs for good midway through a download", jobPath: "jobs/job-42.json", status: 500,
			env:     []string{worker.EnvAssetsStallTimeout + "=1s"},
			stop:    func(p *faultproxy.Proxy) { p.StallAfter(faultproxy.Downstream, 6<<20, true) },
			message: []string{"stalled: nothing came for 1s, 3 times", worker.EnvAssetsStallTimeout}},
		{name: "store hangs midway through an upload", jobPath: "jobs/job-42.json", status: 500, exit: &zero,
			env:     []string{worker.EnvUploadStallTimeout + "=1s", worker.EnvOutputURL + "=" + w.url(outBucket, "hung")},
			stop:    func(p *faultproxy.Proxy) { p.StallAfter(faultproxy.Upstream, 4<<20, false) },
			message: []string{"uploading out_part_0.mp4 to " + w.url(outBucket, "hung/out_part_0.mp4"), "stalled: nothing moved for 1s"},
			check:   noObject("hung/out_part_0.mp4")},
		{name: "asset replaced, at the same size, while it downloads", jobPath: "jobs/pinned.json", status: 500,
			env:     []string{worker.EnvAssetsStallTimeout + "=3s"},
			stop:    func(p *faultproxy.Proxy) { p.StallAfter(faultproxy.Downstream, 6<<20, false) },
			during:  func(t *testing.T, p *faultproxy.Proxy) { replaceWhenStalled(t, w, p, job) },
			message: []string{"changed since it was listed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runBucketCase(t, w, tc) })
	}
	t.Run("gzip-encoded asset", func(t *testing.T) { testGzipAsset(t, w) })
}

// oneChunk is a spec of one chunk that runs `sh -c script`, with assetsUrl
// assets ("" for none) and outputFile done.txt, which sh writes after
// script.
func oneChunk(assets, script string) []byte {
	a := ""
	if assets != "" {
		a = `"assetsUrl":"` + assets + `",`
	}
	command := `sh -c '` + script + ` && echo done > done.txt'`
	return []byte(`{` + a + `"chunks":[{"id":0,"outputFile":"done.txt","command":"` + strings.ReplaceAll(command, `"`, `\"`) + `"}]}`)
}

// The workspaces leaveStaleWorkspaces makes, as a worker killed mid-chunk
// leaves them (one of them still being made, an hour ago), and a folder
// of someone else's.
var (
	staleWorkspaces = []string{"helios-job-0-1234567", ".helios-job-3-7654321"}
	notWorkspace    = "helios-notes"
)

// leaveStaleWorkspaces makes them below root, and returns the check that
// the dead workspaces are gone and the other folder is not (which it
// then removes, for assertEmptyDir).
func leaveStaleWorkspaces(t *testing.T, root string) func(t *testing.T) {
	for _, name := range append(staleWorkspaces, notWorkspace) {
		dir := filepath.Join(root, name, "work", "deep")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "out_part_0.mp4"), "half a render")
		os.Chmod(dir, 0o500) // a chunk may leave a folder it cannot write
		old := time.Now().Add(-time.Hour)
		os.Chtimes(filepath.Join(root, name), old, old)
	}
	return func(t *testing.T) { checkStaleRemoved(t, root) }
}

func checkStaleRemoved(t *testing.T, root string) {
	for _, name := range staleWorkspaces {
		if _, err := os.Stat(filepath.Join(root, name)); !os.IsNotExist(err) {
			t.Errorf("stale workspace %s: %v; want it removed", name, err)
		}
	}
	keep := filepath.Join(root, notWorkspace)
	if _, err := os.Stat(filepath.Join(keep, "work", "deep", "out_part_0.mp4")); err != nil {
		t.Errorf("%s, not a workspace, was touched: %v", notWorkspace, err)
	}
	os.Chmod(filepath.Join(keep, "work", "deep"), 0o700)
	os.RemoveAll(keep)
}

// replaceWhenStalled waits until the proxy has frozen the downloads in
// flight, then replaces every asset of the pinned job with other bytes of
// the same size, so that the downloads' retries find another version.
func replaceWhenStalled(t *testing.T, w *bucketWorld, p *faultproxy.Proxy, job *renderJob) {
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for p.Stalled() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the downloads never stalled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for rel, data := range job.assets {
		other := bytes.Clone(data)
		for i := range other {
			other[i] ^= 0xff
		}
		w.put(t, jobsBucket, "projects/pinned/"+rel, other)
	}
}

// testGzipAsset: an asset stored gzip-encoded (gcloud storage cp
// --gzip-local-all; an S3 object with Content-Encoding: gzip) reaches the
// chunk as Cloud Storage's tools would save it: decoded on Cloud Storage,
// as stored on S3. Twice: the second chunk takes it from the asset cache.
func testGzipAsset(t *testing.T, w *bucketWorld) {
	js := strings.Repeat("export const frame = n => n * 2;\n", 300)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(js))
	zw.Close()
	script := "gzip -dc app.js"
	if w.putGzip(t, jobsBucket, "gz/assets/app.js", z.Bytes()) {
		script = "cat app.js"
	}
	w.put(t, jobsBucket, "gz/job.json", oneChunk(w.url(jobsBucket, "gz/assets"), script))
	cache := t.TempDir()
	call := w.start(t, w.addr, t.TempDir(), worker.EnvAssetsCacheDir+"="+cache)
	ctx := testdeadline.Context(t)
	for range 2 {
		r, err := call(ctx, jobspec.Request{JobPath: w.url(jobsBucket, "gz/job.json")})
		if err != nil || r.StatusCode != 200 || r.Stdout != js {
			t.Fatalf("%s: %+v, %v; want the %d original bytes", script, r, err, len(js))
		}
	}
}
