package cloudrun_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// refusal is the start of the message of a jobPath outside the allowlist.
func refusal(jobPath string) string {
	return "job path " + strconv.Quote(jobPath) + " is outside " + worker.EnvAllowedJobPaths + " ("
}

// TestHTTPAllowedJobPaths: with HELIOS_ALLOWED_JOB_PATHS set, the
// handler answers a jobPath outside it with the contract's 403, before
// anything is fetched, and runcaller reads it as a failure with the
// message; a jobPath inside runs.
func TestHTTPAllowedJobPaths(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	spec := `{"chunks":[{"id":0,"command":"echo ok"}]}`
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(spec))
	}))
	t.Cleanup(web.Close)
	specs, other := t.TempDir(), t.TempDir()
	inside, outside := filepath.Join(specs, "job.json"), filepath.Join(other, "job.json")
	for _, f := range []string{inside, outside} {
		if err := os.WriteFile(f, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t)
	cfg.AllowedJobPaths = []string{"file://" + specs + "/", web.URL + "/jobs/"}
	e := newEnv(t, cfg)
	for _, tc := range []struct {
		jobPath  string
		status   int
		requests int64
	}{
		{inside, 200, 0},
		{web.URL + "/jobs/job.json", 200, 1},
		{outside, 403, 0},
		{specs + "/../" + filepath.Base(other) + "/job.json", 403, 0},
		{web.URL + "/job.json", 403, 0},
		{web.URL + "/jobs/%2e%2e/job.json", 403, 0},
		{web.URL + "/jobs/%2E%2E/job.json", 403, 0},
		{web.URL + "/jobs%2fjob.json", 403, 0},
		{strings.Replace(web.URL, "127.0.0.1", "localhost", 1) + "/jobs/job.json", 403, 0},
		{"gs://jobs/job.json", 403, 0},
	} {
		t.Run(tc.jobPath, func(t *testing.T) {
			before := requests.Load()
			r := e.do(t, http.MethodPost, payload(tc.jobPath, 0))
			if got := requests.Load() - before; got != tc.requests {
				t.Errorf("the web server got %d requests, want %d", got, tc.requests)
			}
			if tc.status == 200 {
				r.check(t, 200, "")
				return
			}
			r.check(t, 403, "*")
			r.onlyMessage(t)
			if msg := r.str(t, "message"); !strings.HasPrefix(msg, refusal(tc.jobPath)) {
				t.Errorf("message %q, want it to start with %q", msg, refusal(tc.jobPath))
			}
			res, err := runcaller.Parse(r.status, r.raw)
			if err != nil || res.OK() || res.StatusCode != 403 || !strings.HasPrefix(res.Message, refusal(tc.jobPath)) {
				t.Errorf("runcaller.Parse = %+v, %v; want a failure with status 403 and the message", res, err)
			}
			got, err := e.caller.Call(testdeadline.Context(t), jobspec.Request{JobPath: tc.jobPath})
			if err != nil || got.StatusCode != 403 || got.Message != res.Message {
				t.Errorf("Caller.Call = %+v, %v; want %+v", got, err, res)
			}
			e.do(t, http.MethodPost, payload(inside, 0)).check(t, 200, "") // still serving
		})
	}
	if !emptyDir(t, cfg.WorkspaceRoot) {
		t.Errorf("workspaces left: %v", dirNames(cfg.WorkspaceRoot))
	}
}

// gcsJobs is a fake GCS whose bucket "jobs" holds a runnable spec at
// team1/job.json and team2/job.json, and bucket "jobs-evil" one at
// team1/job.json: a refused jobPath would run if it were fetched.
func gcsJobs(t *testing.T) *gcstest.Server {
	srv := gcstest.Start(t)
	spec := []byte(`{"chunks":[{"id":0,"command":"echo ok"}]}`)
	for _, b := range []string{"jobs", "jobs-evil"} {
		srv.CreateBucket(b)
		srv.PutObject(b, "team1/job.json", spec)
	}
	srv.PutObject("jobs", "team2/job.json", spec)
	return srv
}

// Refused jobPaths of the gs:// tests, with gs://jobs/team1/ allowed.
var gsRefused = []string{
	"gs://jobs/team2/job.json",
	"gs://jobs-evil/team1/job.json",
	"gs://Jobs/team1/job.json",
	"gs://jobs/team1/../team2/job.json",
	"gs://jobs/team1/%2e%2e/team2/job.json",
	"gs://jobs/team1%2fjob.json",
	"gs://jobs/team1",
	"s3://jobs/team1/job.json",
}

// TestBinaryAllowedJobPaths runs the Cloud Run worker binary with
// HELIOS_ALLOWED_JOB_PATHS=gs://jobs/team1/ against a fake GCS: over
// HTTP, a jobPath outside is a 403 that no request to GCS precedes, and
// is logged as a warning; one inside runs.
func TestBinaryAllowedJobPaths(t *testing.T) {
	t.Parallel()
	gcs := gcsJobs(t)
	p := startWorker(t, gcs.Env(), worker.EnvAllowedJobPaths+"=gs://jobs/team1/")
	post := func(t *testing.T, jobPath string) (reply, int64) {
		t.Helper()
		before := gcs.Requests()
		r, err := doRequest(t, http.DefaultClient, "http://"+p.addr+"/", http.MethodPost, payload(jobPath, 0))
		if err != nil {
			t.Fatal(err)
		}
		return r, gcs.Requests() - before
	}
	if r, n := post(t, "gs://jobs/team1/job.json"); r.status != 200 || n == 0 {
		t.Fatalf("allowed jobPath: status %d after %d GCS requests, want 200 after some; body %s", r.status, n, r.raw)
	}
	for _, jobPath := range gsRefused {
		t.Run(jobPath, func(t *testing.T) {
			r, n := post(t, jobPath)
			r.check(t, 403, "*")
			r.onlyMessage(t)
			if msg := r.str(t, "message"); !strings.HasPrefix(msg, refusal(jobPath)) {
				t.Errorf("message %q, want it to start with %q", msg, refusal(jobPath))
			}
			if n != 0 {
				t.Errorf("GCS got %d requests for a refused jobPath", n)
			}
		})
	}
	if !waitFor(t, func() bool { return strings.Count(p.stdout.String(), `"job path refused"`) == len(gsRefused) }) {
		t.Errorf("want %d job path refused lines:\n%s", len(gsRefused), p.stdout.String())
	}
	for _, line := range strings.Split(p.stdout.String(), "\n") {
		if strings.Contains(line, `"job path refused"`) && !strings.Contains(line, `"severity":"WARNING"`) {
			t.Errorf("refusal logged below WARNING: %s", line)
		}
	}
}

// TestJobTaskAllowedJobPaths: a job's task checks HELIOS_JOB_PATH against
// HELIOS_ALLOWED_JOB_PATHS too; outside it, the task cannot start (exit 2,
// an ERROR line naming the path and the variable) and GCS gets nothing.
func TestJobTaskAllowedJobPaths(t *testing.T) {
	gcs := gcsJobs(t)
	env := []string{gcs.Env(), "HELIOS_WORKSPACE_ROOT=" + t.TempDir(), worker.EnvAllowedJobPaths + "=gs://jobs/team1/"}
	before := gcs.Requests()
	if r := runTask(t, 0, 1, 0, append(env, cloudrun.EnvJobPath+"=gs://jobs/team1/job.json")...); r.code != 0 || gcs.Requests() == before {
		t.Fatalf("allowed HELIOS_JOB_PATH: exit %d after %d GCS requests, want 0 after some:\n%s", r.code, gcs.Requests()-before, r.stdout)
	}
	for _, jobPath := range slices.Concat(gsRefused, []string{"/etc/passwd"}) {
		t.Run(jobPath, func(t *testing.T) {
			before := gcs.Requests()
			r := runTask(t, 0, 1, 0, append(env, cloudrun.EnvJobPath+"="+jobPath)...)
			// The log line is JSON: the quotes around the path are escaped.
			say := strings.ReplaceAll(refusal(jobPath), `"`, `\"`)
			if r.code != cloudrun.ExitCannotStart || !strings.Contains(r.stdout, say) || !strings.Contains(r.stdout, `"severity":"ERROR"`) {
				t.Errorf("exit %d, want %d, and an ERROR line saying %s:\n%s", r.code, cloudrun.ExitCannotStart, say, r.stdout)
			}
			if n := gcs.Requests() - before; n != 0 {
				t.Errorf("GCS got %d requests for a refused HELIOS_JOB_PATH", n)
			}
		})
	}
}
