package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

const testJob = "projects/p/locations/us-central1/jobs/render-job"

// writeTextJob writes a project of n chunks whose outputs are text
// (part_I.txt, "chunk I"), merged by concatenation into out.txt, and
// returns its spec's path and the merged file it must give.
func writeTextJob(t *testing.T, n int) (string, string) {
	t.Helper()
	dir := t.TempDir()
	spec := jobspec.Spec{}
	merge, want := "sh helios merge out.txt", ""
	for i := range n {
		out := fmt.Sprintf("part_%d.txt", i)
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(30 * i), FrameCount: 30, OutputFile: out,
			Command: "sh helios render composition.html -o " + out})
		merge += " " + out
		want += fmt.Sprintf("chunk %d\n", i)
	}
	spec.MergeCommand = merge
	data, _ := json.Marshal(spec)
	for name, content := range map[string]string{"job.json": string(data), "composition.html": "intro",
		"helios": "set -eu\ntest \"$1\" = merge\nout=$2; shift 2; cat \"$@\" > \"$out\"\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "job.json"), want
}

// fakeTasks runs a task as the task mode would, in this process: it
// reads the spec at HELIOS_JOB_PATH from the fake Cloud Storage and puts
// "chunk I" as the output of each chunk at its positions, then its
// process exits 0, or 1 when a chunk of fail was among them; a chunk of
// silent is left unwritten, and its task succeeds; a task with a chunk
// of hold waits until the file release exists.
type fakeTasks struct {
	gcs                *gcstest.Server
	mu                 sync.Mutex
	fail, silent, hold map[int64]bool
	release            string
}

func (f *fakeTasks) Command(_ context.Context, a runapitest.TaskAttempt) *exec.Cmd {
	env := map[string]string{}
	for _, e := range a.Env {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	code, wait := 0, ""
	bucket, key, _ := store.SplitBucket(env["HELIOS_JOB_PATH"])
	obj, ok := f.gcs.Object(bucket, key)
	spec, err := jobspec.Parse(obj.Content)
	if !ok || err != nil {
		return exec.Command("/bin/sh", "-c", "echo cannot read the spec >&2; exit 2")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for pos := a.Index; pos < len(spec.Chunks); pos += a.Count {
		c := spec.Chunks[pos]
		if f.hold[c.ID] {
			wait = fmt.Sprintf("while ! test -e '%s'; do sleep 0.1; done; ", f.release)
		}
		switch {
		case f.fail[c.ID]:
			code = 1
		case f.silent[c.ID]:
		default:
			b, k, _ := store.SplitBucket(store.JoinLocation(cmp.Or(spec.OutputURL, env["HELIOS_OUTPUT_URL"]), c.OutputFile))
			f.gcs.PutObject(b, k, fmt.Appendf(nil, "chunk %d\n", c.ID))
		}
	}
	return exec.Command("/bin/sh", "-c", wait+"exit "+strconv.Itoa(code))
}

// jobTest is a Cloud Run job of fakeTasks behind the Admin API stand-in,
// with this process's clients pointed at both stand-ins.
type jobTest struct {
	gcs   *gcstest.Server
	api   *runapitest.Server
	tasks *fakeTasks
}

func startJobTest(t *testing.T, allowed string) *jobTest {
	t.Helper()
	j := &jobTest{gcs: gcstest.Start(t), api: runapitest.Start(t)}
	j.gcs.CreateBucket("jobs")
	j.tasks = &fakeTasks{gcs: j.gcs, fail: map[int64]bool{}, silent: map[int64]bool{}, hold: map[int64]bool{}}
	t.Setenv(gcstest.EmulatorHostEnv, j.gcs.Host())
	t.Setenv(envRunAPI, j.api.URL+"/")
	j.api.PutJob(&runapi.GoogleCloudRunV2Job{Name: testJob, Template: &runapi.GoogleCloudRunV2ExecutionTemplate{TaskCount: 1,
		Template: &runapi.GoogleCloudRunV2TaskTemplate{MaxRetries: 1, Containers: []*runapi.GoogleCloudRunV2Container{{
			Resources: &runapi.GoogleCloudRunV2ResourceRequirements{Limits: map[string]string{"cpu": "2", "memory": "4Gi"}},
			Env:       []*runapi.GoogleCloudRunV2EnvVar{{Name: "HELIOS_ALLOWED_JOB_PATHS", Value: allowed}}}}}}}, j.tasks)
	return j
}

// runJobCmd runs helios-scaffold run with args (and --progress json
// unless args say otherwise) in process; it fails unless the exit code
// is want, and returns the JSON events and stderr.
func runJobCmd(t *testing.T, want int, args ...string) ([]map[string]any, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"run"}, args...)
	if code := Run(testdeadline.Context(t), args, &stdout, &stderr); code != want {
		t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, stdout.String(), stderr.String())
	}
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			events = append(events, e)
		}
	}
	return events, stdout.String(), stderr.String()
}

// kinds are the events of kind (and, for executions, state).
func kinds(events []map[string]any, kind, state string) []map[string]any {
	var es []map[string]any
	for _, e := range events {
		if e["event"] == kind && (state == "" || e["state"] == state) {
			es = append(es, e)
		}
	}
	return es
}

func checkFile(t *testing.T, name, want string) {
	t.Helper()
	if got, err := os.ReadFile(name); err != nil || string(got) != want {
		t.Errorf("%s = %q, %v; want %q", filepath.Base(name), got, err, want)
	}
}

// TestCloudRunJobRender: run starts an execution of the job with the
// uploaded spec and the outputs folder as overrides, follows it to the
// end, collects and merges; a failing chunk fails its task, which run
// names with its chunks, and the same command then starts an execution
// of those chunks only.
func TestCloudRunJobRender(t *testing.T) {
	j := startJobTest(t, "gs://jobs/")
	spec, want := writeTextJob(t, 5)
	args := []string{spec, "--progress", "json", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs", "--tasks", "2"}
	j.tasks.fail[3] = true
	events, _, stderr := runJobCmd(t, 1, args...)
	for _, want := range []string{"failed: 1 of 2 tasks failed for good", "task 1 (chunks [1 3]): exit code 1, after 2 attempts",
		"1 of 5 outputs are not there: chunks [3]", "the same command starts an execution of the 1 chunk left"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if n := len(kinds(events, "finished", "")); n != 4 || len(kinds(events, "failed", "")) != 1 || len(kinds(events, "execution", "failed")) != 1 {
		t.Errorf("events %v: want 4 finished, 1 failed, the execution failed", events)
	}
	dir := filepath.Dir(spec)
	if _, err := os.Stat(filepath.Join(dir, "out.txt")); err == nil {
		t.Error("merged with chunk 3 missing")
	}

	j.tasks.mu.Lock()
	delete(j.tasks.fail, 3)
	j.tasks.mu.Unlock()
	events, _, _ = runJobCmd(t, 0, args...)
	checkFile(t, filepath.Join(dir, "out.txt"), want)
	names := j.api.Executions(testJob)
	x, _ := j.api.Execution(names[len(names)-1])
	env := map[string]string{}
	for _, e := range x.Template.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if len(names) != 2 || x.TaskCount != 1 || !strings.Contains(env["HELIOS_JOB_PATH"], ".rest-") {
		t.Errorf("executions %v, the last of %d tasks with env %v; want a second one of the chunk left, its own spec", names, x.TaskCount, env)
	}
	if s := kinds(events, "summary", ""); len(s) != 1 || s[0]["ok"] != float64(1) || s[0]["skipped"] != float64(4) ||
		s[0]["spentUsd"].(float64) <= 0 || s[0]["prices"] != "Cloud Run job tasks of 2 vCPU 4096 MiB at prices of 2026-12-01, each task from its start to its end, no request fee" {
		t.Errorf("summary %v: want 1 collected, 4 done before, priced from the job's task size", s)
	}
	started := kinds(events, "execution", "started")
	if len(started) != 1 || started[0]["tasks"] != float64(1) {
		t.Errorf("started %v: want one execution of 1 task", started)
	}
}

// TestCloudRunJobStale: an output in the folder from before the
// execution, which its task did not write again, is not taken: run
// names the chunk and merges nothing.
func TestCloudRunJobStale(t *testing.T) {
	j := startJobTest(t, "gs://jobs/")
	spec, _ := writeTextJob(t, 3)
	j.gcs.PutObject("jobs", "renders/part_1.txt", []byte("an older render\n"))
	j.tasks.silent[1] = true
	_, _, stderr := runJobCmd(t, 1, spec, "--progress", "none", "--target", "cloudrun-job", "--job", testJob, "--no-auth",
		"--upload", "gs://jobs/runs", "--output-url", "gs://jobs/renders")
	if !strings.Contains(stderr, "1 of 3 outputs are not there: chunks [1] (first: gs://jobs/renders/part_1.txt)") {
		t.Errorf("stderr:\n%s\nwant chunk 1 named as not written", stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(spec), "part_1.txt")); err == nil {
		t.Error("the older render was collected")
	}
}

// TestCloudRunJobDetach: --detach starts the execution, prints it and
// its console page, and leaves an attach file; the same command without
// --detach follows that execution instead of starting another, and
// collects and merges.
func TestCloudRunJobDetach(t *testing.T) {
	j := startJobTest(t, "gs://jobs/")
	spec, want := writeTextJob(t, 3)
	args := []string{spec, "--progress", "none", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs"}
	_, stdout, _ := runJobCmd(t, 0, append(args, "--detach")...)
	names := j.api.Executions(testJob)
	if len(names) != 1 || !strings.Contains(stdout, "execution: "+names[0]+"\n") ||
		!strings.Contains(stdout, "console:   https://console.cloud.google.com/run/jobs/executions/details/us-central1/"+shortName(names[0])+"/tasks?project=p\n") {
		t.Fatalf("--detach printed:\n%s\nwant the execution %v and its console page", stdout, names)
	}
	attach := filepath.Join(filepath.Dir(spec), ".job.helios-run.attach")
	a, err := readAttachment(attach)
	if err != nil || a == nil || a.Execution != names[0] || a.Tasks != 3 || len(a.Chunks) != 3 || !strings.HasPrefix(a.Outputs, "gs://jobs/runs/outputs/job-") {
		t.Fatalf("attach file: %+v, %v", a, err)
	}
	_, _, stderr := runJobCmd(t, 0, args...)
	checkFile(t, filepath.Join(filepath.Dir(spec), "out.txt"), want)
	if n := len(j.api.Executions(testJob)); n != 1 || !strings.Contains(stderr, "following it, as --attach "+shortName(names[0])+" would") {
		t.Errorf("%d executions; stderr:\n%s\nwant the left one followed", n, stderr)
	}
	if _, err := os.Stat(attach); err == nil {
		t.Error("the attach file is left after the collect")
	}
}

// TestCloudRunJobRefused: a job that is not there, a run that is
// denied, and a spec outside the job's HELIOS_ALLOWED_JOB_PATHS each
// exit 1 saying so, and nothing runs.
func TestCloudRunJobRefused(t *testing.T) {
	j := startJobTest(t, "gs://elsewhere/")
	spec, _ := writeTextJob(t, 2)
	args := func(job string) []string {
		return []string{spec, "--progress", "none", "--target", "cloudrun-job", "--job", job, "--no-auth", "--upload", "gs://jobs/runs"}
	}
	for _, tc := range []struct {
		job, want string
		deny      bool
	}{
		{"projects/p/locations/us-central1/jobs/absent", "the Cloud Run job projects/p/locations/us-central1/jobs/absent is not there: deploy it first", false},
		{testJob, "the job's tasks read specs only below HELIOS_ALLOWED_JOB_PATHS=gs://elsewhere/", false},
		{testJob, "this needs run.jobs.run and run.jobs.runWithOverrides on " + testJob, true},
	} {
		if tc.deny {
			j.api.Deny(testJob)
		}
		_, _, stderr := runJobCmd(t, 1, args(tc.job)...)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("--job %s: stderr\n%s\nwant %q", tc.job, stderr, tc.want)
		}
	}
	if n := len(j.api.Executions(testJob)); n != 0 {
		t.Errorf("%d executions started", n)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(spec), ".job.helios-run.attach")); err == nil {
		t.Error("the attach file of the start that Cloud Run refused is left")
	}
}

// TestCloudRunJobStartToken: the attach file of a run that stopped while
// it started an execution holds the start's token and no execution. The
// next run looks for an execution with that token: found, it follows it
// (TestCloudRunJobKill/starting kills run in that window); not found, as
// here, it starts one. Executions that cannot be listed stop it: another
// might render the chunks twice.
func TestCloudRunJobStartToken(t *testing.T) {
	j := startJobTest(t, "gs://jobs/")
	spec, want := writeTextJob(t, 3)
	args := []string{spec, "--progress", "none", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs"}
	runJobCmd(t, 0, append(args, "--detach")...)
	attach := filepath.Join(filepath.Dir(spec), ".job.helios-run.attach")
	a, err := readAttachment(attach)
	if err != nil || a == nil || len(a.Token) != 32 {
		t.Fatalf("attach file %+v, %v: want a start token", a, err)
	}
	x, _ := j.api.Execution(a.Execution)
	if !hasEnv(x.Template, envStartToken, a.Token) {
		t.Errorf("the execution's overrides %+v do not carry the start token %s", x.Template, a.Token)
	}
	a.Execution, a.Token = "", newStartToken() // a start that never reached Cloud Run
	if err := writeAttachment(attach, *a); err != nil {
		t.Fatal(err)
	}

	t.Setenv(envRunAPI, "http://127.0.0.1:1/")
	_, _, stderr := runJobCmd(t, 1, args...)
	if !strings.Contains(stderr, "finding that execution failed, and starting another could render the chunks twice") {
		t.Errorf("stderr:\n%s\nwant the list's failure, and nothing started", stderr)
	}

	t.Setenv(envRunAPI, j.api.URL+"/")
	_, _, stderr = runJobCmd(t, 0, args...)
	checkFile(t, filepath.Join(filepath.Dir(spec), "out.txt"), want)
	if n := len(j.api.Executions(testJob)); n != 2 || !strings.Contains(stderr, "Cloud Run has none of that start: starting one") {
		t.Errorf("%d executions; stderr:\n%s\nwant a second one started, saying why", n, stderr)
	}
}

// TestCloudRunJobUsage: the flags of the cloudrun-job target, --detach
// and --attach are checked before anything is called.
func TestCloudRunJobUsage(t *testing.T) {
	spec, _ := writeTextJob(t, 2)
	t.Chdir(t.TempDir())
	t.Setenv(envRunAPI, "http://127.0.0.1:1/") // nothing must call it
	job := []string{"--target", "cloudrun-job", "--job", testJob, "--upload", "gs://jobs/runs"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--detach"}, "--detach and --attach are for --target cloudrun-job or aws, a render that goes on without run; on --target local"},
		{[]string{"--target", "aws", "--function", "f", "--upload", "s3://b/p", "--attach", "x"}, "--attach x: want a Step Functions execution's ARN"},
		{append(job, "--detach", "--attach", "e"), "pass one of them"},
		{append(job, "--attach", "e", "--redrive"), "--redrive goes with --target aws --attach ARN"},
		{[]string{"--target", "aws", "--function", "f", "--upload", "s3://b/p", "--detach", "--redrive"}, "--redrive goes with --target aws --attach ARN"},
		{append(job, "--collect-only", "--detach"), "--collect-only starts and follows nothing"},
		{append(job, "--attach", "e", "--tasks", "2"), "--tasks is for starting an execution"},
		{[]string{"--target", "cloudrun", "--url", "http://x", "--job", testJob}, "--job and --tasks are for --target cloudrun-job"},
		{append(job, "--tasks", "10001"), "--tasks 10001: a Cloud Run execution runs 1 to 10000 tasks"},
		{append(job, "--concurrency", "3"), "--concurrency is not for --target cloudrun-job"},
		{append(job, "--url", "http://x"), "--url, --function and --service are not for --target cloudrun-job"},
		{append(job, "--budget", "1"), "--budget is for --target aws or cloudrun"},
		{[]string{"--target", "cloudrun-job"}, "--target cloudrun-job needs --job projects/PROJECT/locations/REGION/jobs/JOB"},
		{[]string{"--target", "cloudrun-job", "--job", "jobs/x"}, "--job jobs/x: want projects/PROJECT/locations/REGION/jobs/JOB"},
		{append(job, "--attach", "Not/AnId"), "--attach Not/AnId: want an execution's name"},
		{append(job, "--attach", "projects/p/locations/l/jobs/other/executions/e"), "is an execution of projects/p/locations/l/jobs/other, not of --job"},
		{[]string{"--target", "cloudrun-job", "--job", testJob}, "the cloudrun-job workers cannot read"},
		{[]string{"--target", "cloudrun-job", "--job", testJob, "--upload", "s3://b/p"}, "--upload s3://b/p: cloudrun-job workers read gs:// locations"},
	} {
		_, _, stderr := runJobCmd(t, 2, append([]string{spec}, tc.args...)...)
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("run %v: stderr\n%s\nwant %q", tc.args, stderr, tc.want)
		}
	}
}

// TestCloudRunJobDryRun: in the repository of a --kind job project,
// the target, the job, its task count and the upload come from the
// answers; --dry-run says so, and what --attach would follow.
func TestCloudRunJobDryRun(t *testing.T) {
	repo := t.TempDir()
	root, _ := filepath.Abs("../..")
	var out, errb bytes.Buffer
	if code := Run(testdeadline.Context(t), []string{"init", "cloudrun", "--kind", "job", "--dir", repo, "--module", "example.com/r",
		"--name", "render-job", "--project", "helios-demo", "--tasks", "4", "--job-bucket", "jobs", "--output-url", "gs://out/renders", "--replace-runtime", root}, &out, &errb); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out.String(), errb.String())
	}
	spec, _ := writeTextJob(t, 6)
	data, _ := os.ReadFile(spec)
	os.WriteFile(filepath.Join(repo, "job.json"), data, 0o644)
	t.Chdir(repo)
	job := "projects/helios-demo/locations/us-central1/jobs/render-job"
	_, stdout, _ := runJobCmd(t, 0, "job.json", "--dry-run")
	for _, want := range []string{"target:      cloudrun-job (.helios-scaffold.json)", "job:         " + job + " (.helios-scaffold.json)",
		"execution:   of the chunks not done (jobs.run), 4 tasks for all 6 (.helios-scaffold.json's tasks), followed (every 2s)",
		"spec:        uploaded to gs://jobs/helios-run/jobs/job-", "outputs:     put by the workers in gs://out/renders/job-"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--dry-run printed:\n%s\nwant %q", stdout, want)
		}
	}
	_, stdout, _ = runJobCmd(t, 0, "job.json", "--dry-run", "--attach", "render-job-x7k2p")
	if !strings.Contains(stdout, "execution:   "+job+"/executions/render-job-x7k2p, followed") {
		t.Errorf("--dry-run --attach printed:\n%s", stdout)
	}
}
