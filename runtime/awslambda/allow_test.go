package awslambda_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// countingServer counts every request it gets, and serves spec at
// /jobs/job.json (as a web server, and as S3's bucket "jobs" addressed
// path-style) and 404 elsewhere.
func countingServer(t *testing.T, spec []byte) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/jobs/job.json" {
			w.Write(spec)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestLambdaAllowedJobPaths runs the bootstrap under the emulator with
// HELIOS_ALLOWED_JOB_PATHS set to a local folder, a web folder and an S3
// bucket, whose endpoint is a server that counts requests: a jobPath
// outside them is the contract's 403, naming the path and the variable,
// and nothing reaches the web server or the S3 endpoint; one inside runs.
func TestLambdaAllowedJobPaths(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	ws, specs, other := filepath.Join(root, "ws"), filepath.Join(root, "specs"), filepath.Join(root, "specs-other")
	for _, d := range []string{ws, specs, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	commands := map[int64]string{0: `sh -c 'echo out; echo err >&2'`}
	job := writeSpec(t, specs, "job.json", spec("job-allowed", commands))
	outside := writeSpec(t, other, "job.json", spec("job-outside", commands))
	data, err := os.ReadFile(job)
	if err != nil {
		t.Fatal(err)
	}
	srv, requests := countingServer(t, data)
	allowed := "file://" + specs + "/, " + srv.URL + "/jobs/ ,s3://jobs/"
	emu := lambdatest.StartT(t, bins, lambdatest.Options{
		Dir: root,
		Env: []string{
			"HELIOS_WORKSPACE_ROOT=" + ws, "HELIOS_SPEC_TIMEOUT=10s",
			worker.EnvAllowedJobPaths + "=" + allowed,
			"AWS_ENDPOINT_URL_S3=" + srv.URL, s3store.EnvForcePathStyle + "=true", "AWS_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		},
	})
	call := func(t *testing.T, jobPath string) lambdatest.Invocation {
		t.Helper()
		return emu.Call(testdeadline.Context(t), jobspec.Request{JobPath: jobPath})
	}
	good := want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}
	refused := func(jobPath string) want {
		return want{status: 403, keys: keysMessage, kind: worker.KindNotAllowed,
			contains: []string{"job path " + strconv.Quote(jobPath) + " is outside " + worker.EnvAllowedJobPaths}}
	}
	for _, tc := range []struct {
		name     string
		jobPath  string
		want     want
		requests int64 // that the server gets; -1 for some
	}{
		{"local folder", job, good, 0},
		{"file URL", "file://" + job, good, 0},
		{"relative to the working directory", "specs/job.json", good, 0},
		{"web folder", srv.URL + "/jobs/job.json", good, 1},
		// The S3 endpoint is the counting server: a key inside reaches it.
		{"bucket", "s3://jobs/missing.json", want{status: 500, keys: keysMessage}, -1},

		{"another local folder", outside, refused(outside), 0},
		{"a sibling folder of a longer name", "specs-other/job.json", refused("specs-other/job.json"), 0},
		{"climbs out", specs + "/../specs-other/job.json", refused(specs + "/../specs-other/job.json"), 0},
		{"another web folder", srv.URL + "/other/job.json", refused(srv.URL + "/other/job.json"), 0},
		{"encoded dots", srv.URL + "/jobs/%2e%2e/other/job.json", refused(srv.URL + "/jobs/%2e%2e/other/job.json"), 0},
		{"encoded slash", srv.URL + "/jobs%2fjob.json", refused(srv.URL + "/jobs%2fjob.json"), 0},
		{"another bucket", "s3://jobs-evil/job.json", refused("s3://jobs-evil/job.json"), 0},
		{"climbs out of the bucket", "s3://jobs/../evil/job.json", refused("s3://jobs/../evil/job.json"), 0},
		{"another scheme", "gs://jobs/job.json", refused("gs://jobs/job.json"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := requests.Load()
			r := check(t, call(t, tc.jobPath), tc.want)
			got := requests.Load() - before
			if tc.requests >= 0 && got != tc.requests || tc.requests < 0 && got == 0 {
				t.Errorf("the server got %d requests, want %d (-1: some)", got, tc.requests)
			}
			if r.Status != 200 { // the worker must still answer
				check(t, call(t, job), good)
			}
		})
	}
	checkEmpty(t, ws)
	if !emu.WaitOutput(`"job path refused"`, testdeadline.Remaining(t)) {
		t.Errorf("no job path refused log line:\n%s", emu.Report(20, 20))
	}
}

// TestStdinModeAllowedJobPaths: outside Lambda, a relative jobPath is
// checked as the file below the working directory that it names.
func TestStdinModeAllowedJobPaths(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	specs := filepath.Join(root, "specs")
	if err := os.Mkdir(specs, 0o755); err != nil {
		t.Fatal(err)
	}
	commands := map[int64]string{0: `sh -c 'echo out; echo err >&2'`}
	writeSpec(t, specs, "job.json", spec("job-stdin", commands))
	writeSpec(t, root, "job.json", spec("job-stdin", commands))
	env := []string{"HELIOS_WORKSPACE_ROOT=" + t.TempDir(), worker.EnvAllowedJobPaths + "=file://" + specs + "/"}
	for _, tc := range []struct {
		jobPath string
		code    int
		want    want
	}{
		{"specs/job.json", 0, want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}},
		{"./specs/../specs/job.json", 0, want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}},
		{"job.json", 1, want{status: 403, keys: keysMessage, contains: []string{`job path "job.json" is outside ` + worker.EnvAllowedJobPaths}}},
		{"specs/../job.json", 1, want{status: 403, keys: keysMessage, contains: []string{`"specs/../job.json"`}}},
	} {
		t.Run(tc.jobPath, func(t *testing.T) {
			cmd := bootstrapCmd(testdeadline.Context(t), bins, env)
			cmd.Dir = root
			cmd.Stdin = bytes.NewReader(lambdatest.Event(tc.jobPath, 0))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if code := exitCode(t, cmd.Run()); code != tc.code {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", code, tc.code, stderr.String())
			}
			check(t, stdinInvocation(t, stdout.Bytes()), tc.want)
			if tc.code != 0 && !strings.Contains(stderr.String(), `"level":"WARN"`) {
				t.Errorf("no warning logged for a refused jobPath:\n%s", stderr.String())
			}
		})
	}
}
