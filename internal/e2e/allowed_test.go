package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestAllowedJobPathsLambda runs the aws example's bootstrap under the
// Lambda Runtime Interface Emulator with the HELIOS_ALLOWED_JOB_PATHS that
// its template.yaml sets (--job-bucket), against moto_server behind a
// proxy that counts bytes: a spec outside the job bucket is refused with
// 403 and nothing reaches S3 or the web server it names.
func TestAllowedJobPathsLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the emulator; skipped with -short")
	}
	var tmpl struct {
		Resources map[string]struct {
			Properties struct {
				Environment struct {
					Variables map[string]string `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(readString(t, "examples/aws-lambda/template.yaml")), &tmpl); err != nil {
		t.Fatal(err)
	}
	allowed := tmpl.Resources["Worker"].Properties.Environment.Variables[worker.EnvAllowedJobPaths]
	srv := s3test.Start(t)
	w := s3World(t, srv, s3test.AccessKeyID, s3test.SecretAccessKey)
	testAllowedJobPaths(t, w, allowed, func(bucket string) { srv.CreateBucket(t, bucket) })
}

// TestAllowedJobPathsCloudRun is TestAllowedJobPathsLambda for the
// cloud-run example's binary on $PORT, with its service.yaml's
// HELIOS_ALLOWED_JOB_PATHS, against fake-gcs-server.
func TestAllowedJobPathsCloudRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	svc, err := checks.Service([]byte(readString(t, "examples/cloud-run/service.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	var allowed string
	for _, e := range svc.Spec.Template.Spec.Containers[0].Env {
		if e.Name == worker.EnvAllowedJobPaths {
			allowed = e.Value
		}
	}
	srv := gcstest.Start(t)
	testAllowedJobPaths(t, gcsWorld(t, srv), allowed, srv.CreateBucket)
}

// testAllowedJobPaths runs w's worker with HELIOS_ALLOWED_JOB_PATHS set to
// allowed, which must be w's job bucket, through a proxy in front of the
// store. The same runnable spec is in that bucket, in a bucket whose name
// extends it, on a web server and on disk: only the first runs; the others
// are refused with a 403 that names the path and the variable, and the
// store and the web server get nothing for them.
func testAllowedJobPaths(t *testing.T, w *bucketWorld, allowed string, createBucket func(string)) {
	bucket, ok := strings.CutPrefix(allowed, w.scheme+"://")
	bucket, ok2 := strings.CutSuffix(bucket, "/")
	if !ok || !ok2 || bucket == "" || strings.Contains(bucket, "/") {
		t.Fatalf("%s=%q: want the example's job bucket, %s://BUCKET/", worker.EnvAllowedJobPaths, allowed, w.scheme)
	}
	spec := []byte(`{"chunks":[{"id":0,"command":"sh -c 'echo rendered'"}]}`)
	evil := bucket + "-evil"
	for _, b := range []string{bucket, evil} {
		createBucket(b)
		w.put(t, b, "jobs/job.json", spec)
	}
	var webRequests atomic.Int64
	web := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		webRequests.Add(1)
		rw.Write(spec)
	}))
	t.Cleanup(web.Close)
	onDisk := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(onDisk, spec, 0o644); err != nil {
		t.Fatal(err)
	}

	proxy := faultproxy.Start(t, w.addr)
	root := t.TempDir()
	call := w.start(t, proxy.Addr(), root, worker.EnvAllowedJobPaths+"="+allowed)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(t *testing.T, jobPath string) (*worker.CallResult, int64) {
		t.Helper()
		before := proxy.Bytes(faultproxy.Upstream) + webRequests.Load()
		r, err := call(ctx, jobspec.Request{JobPath: jobPath})
		if err != nil {
			t.Fatalf("%s: %v", jobPath, err)
		}
		return r, proxy.Bytes(faultproxy.Upstream) + webRequests.Load() - before
	}
	inside := w.url(bucket, "jobs/job.json")
	if r, sent := run(t, inside); !r.OK() || r.Stdout != "rendered\n" || sent == 0 {
		t.Fatalf("%s: %+v after %d bytes to the store; want a success that read it", inside, r, sent)
	}
	for _, jobPath := range []string{
		w.url(evil, "jobs/job.json"),
		w.url(bucket, "../"+evil+"/jobs/job.json"),
		w.url(bucket, "jobs/%2e%2e/%2e%2e/"+evil+"/jobs/job.json"),
		w.scheme + "://" + strings.ToUpper(bucket) + "/jobs/job.json",
		web.URL + "/jobs/job.json",
		onDisk,
		"file://" + onDisk,
	} {
		t.Run(jobPath, func(t *testing.T) {
			r, sent := run(t, jobPath)
			want := "job path " + strconv.Quote(jobPath) + " is outside " + worker.EnvAllowedJobPaths + " (" + allowed + ")"
			if r.StatusCode != 403 || r.OK() || r.HasExitCode || r.Message != want {
				t.Errorf("status %d, message %q; want 403 and %q", r.StatusCode, r.Message, want)
			}
			if sent != 0 {
				t.Errorf("%d bytes went to the store or requests to the web server for a refused jobPath", sent)
			}
		})
	}
	// The same worker still serves, and no workspace is left.
	if r, _ := run(t, inside); !r.OK() {
		t.Errorf("after the refusals: %+v, want a success", r)
	}
	assertEmptyDir(t, root)
}
