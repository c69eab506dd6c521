package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestBucketsCloudRun renders through the cloud-run example's binary, on
// $PORT, against fake-gcs-server's Cloud Storage JSON API.
func TestBucketsCloudRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	srv := gcstest.Start(t)
	for _, b := range []string{jobsBucket, outBucket} {
		srv.CreateBucket(b)
	}
	w := gcsWorld(t, srv)
	testBuckets(t, w)
	t.Run("asset cache", func(t *testing.T) { testCache(t, w, true) })
	t.Run("hardening", func(t *testing.T) { testHardening(t, w) })
}

// TestBucketsCloudRunAccessDenied: Cloud Storage refusing the service's
// account, for the spec and for the upload.
func TestBucketsCloudRunAccessDenied(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	srv := gcstest.Start(t)
	for _, b := range []string{jobsBucket, outBucket, "helios-private"} {
		srv.CreateBucket(b)
	}
	srv.PutObject(jobsBucket, "jobs/small.json", []byte(`{"chunks":[{"id":0,"outputFile":"o.txt","command":"sh -c 'echo small > o.txt'"}]}`))
	srv.PutObject("helios-private", "job.json", []byte(`{"chunks":[]}`))
	srv.Deny("helios-private")
	srv.Deny(outBucket)
	w := gcsWorld(t, srv)
	call := w.start(t, w.addr, t.TempDir(), worker.EnvOutputURL+"="+w.url(outBucket, "renders"))
	ctx := testdeadline.Context(t)
	for _, tc := range []struct{ jobPath, want string }{
		{"gs://helios-private/job.json", "reading job spec gs://helios-private/job.json"},
		{"gs://helios-jobs/jobs/small.json", "uploading o.txt to gs://helios-out/renders/o.txt"},
	} {
		r, err := call(ctx, jobspec.Request{JobPath: tc.jobPath})
		if err != nil || r.StatusCode != 500 || !strings.Contains(r.Message, tc.want) || !strings.Contains(r.Message, "access denied") {
			t.Errorf("%s: %+v, %v; want a 500 saying %q and access denied", tc.jobPath, r, err, tc.want)
		}
	}
}

// gcsWorld is fake-gcs-server and the cloud-run example's worker.
func gcsWorld(t *testing.T, srv *gcstest.Server) *bucketWorld {
	return &bucketWorld{
		scheme: "gs",
		addr:   srv.Host(),
		put:    func(_ *testing.T, bucket, key string, data []byte) { srv.PutObject(bucket, key, data) },
		get: func(_ *testing.T, bucket, key string) ([]byte, bool) {
			obj, ok := srv.Object(bucket, key)
			return obj.Content, ok
		},
		putGzip: func(_ *testing.T, bucket, key string, gz []byte) bool {
			srv.Fake().CreateObject(fakestorage.Object{
				ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: key, ContentEncoding: "gzip"},
				Content:     gz,
			})
			return true
		},
		start: func(t *testing.T, addr, root string, env ...string) callFunc {
			return startCloudRun(t, append([]string{
				gcstest.EmulatorHostEnv + "=" + addr,
				worker.EnvWorkspaceRoot + "=" + root,
			}, env...))
		},
	}
}

// startCloudRun runs the cloud-run example's binary with env on a free
// port and returns how to call it; it is stopped with SIGTERM when the
// test ends, and must exit 0.
func startCloudRun(t *testing.T, env []string) callFunc {
	t.Helper()
	return startServer(t, cloudRunBinary(t), append(os.Environ(), env...), nil)
}

// startServer runs a Cloud Run worker binary with env (and PORT, a free
// port), as attr says, and returns how to call it; it is stopped with
// SIGTERM when the test ends, and must exit 0 within 15 s.
func startServer(t *testing.T, bin string, env []string, attr *syscall.SysProcAttr) callFunc {
	t.Helper()
	call, _ := startServerLogs(t, bin, env, attr)
	return call
}

// startServerLogs is startServer that also returns the worker's logs.
func startServerLogs(t *testing.T, bin string, env []string, attr *syscall.SysProcAttr) (callFunc, *syncbuf.Buffer) {
	t.Helper()
	url, logs := startServerURL(t, bin, env, attr)
	client := &http.Client{Timeout: 3 * time.Minute}
	return func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
		c, err := runcaller.New(ctx, url, runcaller.WithHTTPClient(client))
		if err != nil {
			return nil, err
		}
		return c.Call(ctx, req)
	}, logs
}

// startServerURL is startServer that returns the worker's URL and logs.
func startServerURL(t *testing.T, bin string, env []string, attr *syscall.SysProcAttr) (string, *syncbuf.Buffer) {
	t.Helper()
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(bin)
	cmd.Env = append(env, "PORT="+port)
	cmd.SysProcAttr = attr
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker after SIGTERM: %v", err)
			}
		case <-testdeadline.After(t):
			cmd.Process.Kill()
			<-done
			t.Error("worker still running 15s after SIGTERM")
		}
		if t.Failed() {
			t.Logf("worker logs:\n%.20000s", logs.String())
		}
	})
	waitListening(t, "127.0.0.1:"+port)
	return "http://127.0.0.1:" + port + "/", &logs
}

var cloudRunBuild struct {
	once sync.Once
	dir  string
	err  error
}

// cloudRunBinary builds the cloud-run example once per test binary.
func cloudRunBinary(t *testing.T) string {
	t.Helper()
	cloudRunBuild.once.Do(func() {
		cloudRunBuild.dir, cloudRunBuild.err = os.MkdirTemp("", "helios-e2e-")
		if cloudRunBuild.err == nil {
			dir, _ := filepath.Abs("examples/cloud-run")
			cloudRunBuild.err = goRun(dir, []string{"CGO_ENABLED=0"}, "build", "-o", filepath.Join(cloudRunBuild.dir, "worker"), "./cmd/render-worker")
		}
	})
	if cloudRunBuild.err != nil {
		t.Fatalf("building the cloud-run example: %v", cloudRunBuild.err)
	}
	return filepath.Join(cloudRunBuild.dir, "worker")
}

// TestCloudRunClientGoneDuringUpload: a client that leaves while its
// chunk's output is uploading (to a store that hangs) stops the upload;
// the log says the upload stopped, not that it ran out of time, and the
// worker serves on with no workspace left.
func TestCloudRunClientGoneDuringUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	srv := gcstest.Start(t)
	for _, b := range []string{jobsBucket, outBucket} {
		srv.CreateBucket(b)
	}
	srv.PutObject(jobsBucket, "jobs/big.json", []byte(`{"chunks":[{"id":0,"outputFile":"o.bin","command":"sh -c 'head -c 8000000 /dev/zero > o.bin'"}]}`))
	srv.PutObject(jobsBucket, "jobs/small.json", []byte(`{"chunks":[{"id":0,"outputFile":"o.txt","command":"sh -c 'echo small > o.txt'"}]}`))
	proxy := faultproxy.Start(t, srv.Host())
	root := t.TempDir()
	call, logs := startServerLogs(t, cloudRunBinary(t), append(os.Environ(),
		gcstest.EmulatorHostEnv+"="+proxy.Addr(),
		worker.EnvWorkspaceRoot+"="+root,
		worker.EnvOutputURL+"=gs://"+outBucket+"/gone",
		worker.EnvUploadStallTimeout+"=10m",
	), nil)
	proxy.StallAfter(faultproxy.Upstream, 2<<20, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	callCtx, leave := context.WithCancel(ctx)
	_, err := callDuring(callCtx, call, jobspec.Request{JobPath: "gs://" + jobsBucket + "/jobs/big.json"}, func() {
		defer leave()
		for proxy.Stalled() == 0 {
			if ctx.Err() != nil {
				t.Fatal("the upload never stalled")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	if err == nil {
		t.Fatal("the call returned an answer after its client left")
	}
	want := "uploading o.bin to gs://" + outBucket + "/gone/o.bin stopped, with "
	for !strings.Contains(logs.String(), want) {
		if ctx.Err() != nil {
			t.Fatalf("the log never said %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "ran out of time") {
		t.Error("the log says the chunk ran out of time; its client left")
	}
	proxy.Resume()
	if r, err := call(ctx, jobspec.Request{JobPath: "gs://" + jobsBucket + "/jobs/small.json"}); err != nil || !r.OK() {
		t.Errorf("the next invocation: %+v, %v; want a success", r, err)
	}
	if _, ok := srv.Object(outBucket, "gone/o.bin"); ok {
		t.Error("the stopped upload left an object")
	}
	assertEmptyDir(t, root)
}
