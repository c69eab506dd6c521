package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// callFunc runs one chunk through a worker, as an orchestrator would.
type callFunc func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error)

// bucketWorld is a store emulator on loopback and a platform's scaffolded
// worker in front of it: moto_server and the aws example's bootstrap
// under the Lambda Runtime Interface Emulator, or fake-gcs-server and the
// cloud-run example's binary on $PORT.
type bucketWorld struct {
	scheme string // s3 or gs
	addr   string // the store's host:port, for a proxy in front of it
	put    func(t *testing.T, bucket, key string, data []byte)
	get    func(t *testing.T, bucket, key string) ([]byte, bool)
	// putGzip stores data gzip-encoded (Content-Encoding: gzip), and
	// reports whether the worker must see it decoded (Cloud Storage, as
	// gcloud storage cp saves it) or as stored (S3).
	putGzip func(t *testing.T, bucket, key string, gz []byte) (decoded bool)
	// start runs the worker with the store at addr (the store's own, or a
	// proxy's), its workspaces below root, and env added.
	start func(t *testing.T, addr, root string, env ...string) callFunc
}

func (w *bucketWorld) url(bucket, key string) string { return w.scheme + "://" + bucket + "/" + key }

// Buckets of every world.
const (
	jobsBucket = "helios-jobs"
	outBucket  = "helios-out"
)

// bucketCase is one invocation and what its answer must say.
type bucketCase struct {
	name    string
	env     []string // added to the worker's
	jobPath string   // in the jobs bucket
	chunk   int64
	// prepare runs before the worker starts, with its workspace root, and
	// returns what to check after the call (or nil).
	prepare func(t *testing.T, root string) func(t *testing.T)
	stop    func(p *faultproxy.Proxy)               // arms a proxy between worker and store
	during  func(t *testing.T, p *faultproxy.Proxy) // while the invocation runs
	status  int
	exit    *int     // the exit code the answer carries; nil for none
	message []string // each in the message
	check   func(t *testing.T, w *bucketWorld, r *worker.CallResult)
}

// testBuckets runs a Helios-shaped job whose spec, assets and output live
// in w's buckets through w's worker, then every bad case, each with a new
// worker that must still serve a good chunk afterwards and leave no
// workspace.
func testBuckets(t *testing.T, w *bucketWorld) {
	job := newRenderJob(t)
	for rel, data := range job.assets {
		w.put(t, jobsBucket, "projects/intro/"+rel, data)
	}
	assets := w.url(jobsBucket, "projects/intro")
	w.put(t, jobsBucket, "jobs/job-42.json", job.spec(t, assets, ""))
	w.put(t, jobsBucket, "jobs/own-output.json", job.spec(t, assets, w.url(outBucket, "from-spec")))
	w.put(t, jobsBucket, "evil/ok.txt", []byte("ok"))
	w.put(t, jobsBucket, "evil/../../escape.txt", []byte("escaped"))
	w.put(t, jobsBucket, "jobs/evil.json", job.spec(t, w.url(jobsBucket, "evil"), ""))
	// The next invocation of every case: a job of its own, with an outputUrl
	// that the case's settings cannot break.
	w.put(t, jobsBucket, "jobs/small.json", []byte(`{"outputUrl":"`+w.url(outBucket, "after")+`",`+
		`"chunks":[{"id":0,"outputFile":"o.txt","command":"sh -c 'echo small > o.txt'"}]}`))

	zero := 0
	cases := []bucketCase{
		{name: "spec, assets and output in the bucket", jobPath: "jobs/job-42.json", chunk: chunkOK, status: 200, exit: &zero,
			check: func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
				want := w.url(outBucket, "renders/out_part_0.mp4")
				if r.OutputURL != want || r.OutputBytes != int64(len(job.output())) {
					t.Errorf("outputUrl %q, outputBytes %d; want %q, %d", r.OutputURL, r.OutputBytes, want, len(job.output()))
				}
				if !strings.Contains(r.Stdout, "job job-42 chunk 0: assets intact") {
					t.Errorf("stdout %q: the assets were not intact, or the job not named after job-42.json", r.Stdout)
				}
				got, ok := w.get(t, outBucket, "renders/out_part_0.mp4")
				if !ok || !bytes.Equal(got, job.output()) {
					t.Errorf("uploaded output: %d bytes (present %v), want the chunk's %d", len(got), ok, len(job.output()))
				}
			}},
		{name: "the spec's outputUrl wins", jobPath: "jobs/own-output.json", chunk: chunkOK, status: 200, exit: &zero,
			check: func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
				if want := w.url(outBucket, "from-spec/out_part_0.mp4"); r.OutputURL != want {
					t.Errorf("outputUrl %q, want %q", r.OutputURL, want)
				}
			}},
		{name: "bucket does not exist", jobPath: "//no-such-bucket/job.json", status: 500,
			message: []string{"no-such-bucket", "not found"}},
		{name: "key does not exist", jobPath: "jobs/nope.json", status: 500,
			message: []string{"jobs/nope.json", "not found"}},
		{name: "asset key climbs out", jobPath: "jobs/evil.json", status: 500,
			message: []string{`"../../escape.txt"`, "outside the workspace"}},
		{name: "assets over the cap", env: []string{worker.EnvAssetsMaxBytes + "=1000000"}, jobPath: "jobs/job-42.json", status: 500,
			message: []string{"larger than the limit", worker.EnvAssetsMaxBytes}},
		{name: "output missing", jobPath: "jobs/job-42.json", chunk: chunkNoOutput, status: 500, exit: &zero,
			message: []string{"without writing its outputFile out_part_1.mp4"}},
		{name: "outputFile a FIFO", jobPath: "jobs/job-42.json", chunk: chunkFIFO, status: 500, exit: &zero,
			message: []string{"outputFile out_part_4.mp4 is not a regular file (a FIFO)"}},
		{name: "outputFile ../escape.mp4", jobPath: "jobs/job-42.json", chunk: chunkClimbsOut, status: 500,
			message: []string{`"../escape.mp4"`, "outside the workspace"}},
		{name: "outputFile /etc/x", jobPath: "jobs/job-42.json", chunk: chunkAbsolute, status: 500,
			message: []string{`"/etc/helios-escape.mp4"`, "outside the workspace"}},
		{name: "output bucket does not exist", env: []string{worker.EnvOutputURL + "=" + w.url("no-such-out", "x")},
			jobPath: "jobs/job-42.json", status: 500, exit: &zero,
			message: []string{"uploading out_part_0.mp4 to " + w.url("no-such-out", "x/out_part_0.mp4"), "not found"}},
		{name: "store stops halfway through a download", jobPath: "jobs/job-42.json", status: 500,
			stop:    func(p *faultproxy.Proxy) { p.StopAfter(faultproxy.Downstream, 6<<20) },
			message: []string{"fetching assets " + assets}},
		{name: "store stops halfway through an upload", env: []string{worker.EnvOutputURL + "=" + w.url(outBucket, "cut")},
			jobPath: "jobs/job-42.json", status: 500, exit: &zero,
			stop:    func(p *faultproxy.Proxy) { p.StopAfter(faultproxy.Upstream, 4<<20) },
			message: []string{"uploading out_part_0.mp4 to " + w.url(outBucket, "cut/out_part_0.mp4")},
			check: func(t *testing.T, w *bucketWorld, r *worker.CallResult) {
				if _, ok := w.get(t, outBucket, "cut/out_part_0.mp4"); ok {
					t.Error("a cut-off upload left an object")
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runBucketCase(t, w, tc) })
	}
}

func runBucketCase(t *testing.T, w *bucketWorld, tc bucketCase) {
	root := t.TempDir()
	addr := w.addr
	var proxy *faultproxy.Proxy
	if tc.stop != nil {
		proxy = faultproxy.Start(t, w.addr)
		addr = proxy.Addr()
	}
	var checkRoot func(t *testing.T)
	if tc.prepare != nil {
		checkRoot = tc.prepare(t, root)
	}
	env := append([]string{worker.EnvOutputURL + "=" + w.url(outBucket, "renders")}, tc.env...)
	call := w.start(t, addr, root, env...)
	if tc.stop != nil {
		tc.stop(proxy)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jobPath := w.url(jobsBucket, tc.jobPath)
	if rest, ok := strings.CutPrefix(tc.jobPath, "//"); ok {
		jobPath = w.scheme + "://" + rest
	}
	r, err := callDuring(ctx, call, jobspec.Request{JobPath: jobPath, ChunkIndex: tc.chunk}, func() {
		if tc.during != nil {
			tc.during(t, proxy)
		}
	})
	if err != nil {
		t.Fatalf("%s chunk %d: %v", jobPath, tc.chunk, err)
	}
	if r.StatusCode != tc.status || r.HasExitCode != (tc.exit != nil) || (tc.exit != nil && r.ExitCode != *tc.exit) {
		t.Errorf("status %d, exit code %d (present %v), message %q; want %d and %v", r.StatusCode, r.ExitCode, r.HasExitCode, r.Message, tc.status, tc.exit)
	}
	for _, m := range tc.message {
		if !strings.Contains(r.Message, m) {
			t.Errorf("message %q lacks %q", r.Message, m)
		}
	}
	if tc.check != nil {
		tc.check(t, w, r)
	}
	if checkRoot != nil {
		checkRoot(t)
	}
	if proxy != nil {
		if !proxy.Stopped() && proxy.Stalled() == 0 {
			t.Error("the store was never stopped or stalled: the case tested nothing")
		}
		proxy.Resume()
	}
	// The same worker still serves, and no workspace is left.
	r, err = call(ctx, jobspec.Request{JobPath: w.url(jobsBucket, "jobs/small.json")})
	if err != nil || !r.OK() || r.OutputURL != w.url(outBucket, "after/o.txt") {
		t.Errorf("the next invocation: %+v, %v; want a success", r, err)
	}
	assertEmptyDir(t, root)
}

// callDuring calls req and runs during, on the test's goroutine, while
// the call is under way.
func callDuring(ctx context.Context, call callFunc, req jobspec.Request, during func()) (*worker.CallResult, error) {
	type answer struct {
		r   *worker.CallResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := call(ctx, req)
		done <- answer{r, err}
	}()
	during()
	a := <-done
	return a.r, a.err
}
