package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// crJob is the Cloud Run job of these tests, as the stand-in Admin API
// holds it.
const crJob = "projects/p/locations/us-central1/jobs/render-job"

// jobWorld is a Cloud Run job on this machine: fake-gcs-server as its
// and run's Cloud Storage, and the Admin API stand-in whose executions
// run each task as a process of the cloud-run-job example's binary.
type jobWorld struct {
	GCS *gcstest.Server
	API *runapitest.Server
}

// startJobWorld builds the cloud-run-job example and holds crJob in the
// stand-in: 2 tasks at a time, each retried once, reading specs only in
// the jobs bucket, as init cloudrun --kind job --job-bucket writes it;
// this process's Cloud Storage and Admin API clients point at the
// stand-ins.
func startJobWorld(t *testing.T) *jobWorld {
	t.Helper()
	dir, _ := filepath.Abs("examples/cloud-run-job")
	bin := filepath.Join(t.TempDir(), "render-job")
	goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-o", bin, "./cmd/render-job")
	workspaces := t.TempDir() // removed after the stand-in has stopped the tasks
	w := &jobWorld{GCS: gcstest.Start(t), API: runapitest.Start(t)}
	w.GCS.CreateBucket(jobsBucket)
	t.Setenv(gcstest.EmulatorHostEnv, w.GCS.Host())
	t.Setenv("HELIOS_CLOUDRUN_API", w.API.URL+"/")
	w.API.PutJob(&runapi.GoogleCloudRunV2Job{Name: crJob, Template: &runapi.GoogleCloudRunV2ExecutionTemplate{
		TaskCount: 1, Parallelism: 2,
		Template: &runapi.GoogleCloudRunV2TaskTemplate{MaxRetries: 1, Timeout: "600s",
			Containers: []*runapi.GoogleCloudRunV2Container{{Image: "us-central1-docker.pkg.dev/p/helios/render-job:v1",
				Resources: &runapi.GoogleCloudRunV2ResourceRequirements{Limits: map[string]string{"cpu": "1", "memory": "512Mi"}},
				Env:       []*runapi.GoogleCloudRunV2EnvVar{{Name: "HELIOS_ALLOWED_JOB_PATHS", Value: "gs://" + jobsBucket + "/"}}}},
		},
	}}, runapitest.Binary{Path: bin, Env: append(os.Environ(), w.GCS.Env(), "HELIOS_WORKSPACE_ROOT="+workspaces)})
	return w
}

// jobArgs are run's arguments for project v on the job, uploading
// below prefix, without the list that the merge writes beside the
// outputs (a project's .gitignore would leave it out).
func jobArgs(v videoProject, prefix string, more ...string) []string {
	return append([]string{v.Spec, "--target", "cloudrun-job", "--job", crJob, "--no-auth",
		"--upload", "gs://" + jobsBucket + "/" + prefix, "--exclude", ".merge.txt"}, more...)
}

// withTaskFaults makes v's chunk commands fail, or wait, while a file
// of v's marks folder says so: fail-S makes the chunk at frame S exit 1,
// wait-S makes it wait for release. The marks are outside the project,
// so that changing them changes no project file.
func withTaskFaults(t *testing.T, v videoProject) {
	t.Helper()
	script := filepath.Join(v.Dir, "helios")
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	const after = "out=$4 start=$6 n=$8\n"
	faults := fmt.Sprintf(`if test -e "%[1]s/fail-$start"; then echo "chunk at frame $start fails on purpose" >&2; exit 1; fi
if test -e "%[1]s/wait-$start"; then while ! test -e "%[1]s/release"; do sleep 0.1; done; fi
`, v.Marks)
	if !strings.Contains(string(data), after) {
		t.Fatalf("the video project's helios script has no line %q", after)
	}
	if err := os.WriteFile(script, []byte(strings.Replace(string(data), after, after+faults, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mark creates (or, with on false, removes) the file name in v's marks.
func mark(t *testing.T, v videoProject, name string, on bool) {
	t.Helper()
	p := filepath.Join(v.Marks, name)
	if !on {
		os.Remove(p)
		return
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// executionEvents are the "execution" events of a run.
func executionEvents(t *testing.T, events []map[string]any) []map[string]any {
	t.Helper()
	es := eventsOf(events, "execution")
	if len(es) == 0 {
		t.Fatalf("no execution events: %v", events)
	}
	return es
}

// TestRunCloudRunJob renders a 5-chunk video project on a Cloud Run job:
// run uploads it, starts an execution of 3 tasks through the Admin API
// with the spec and the outputs folder as overrides, follows its counts
// (JSON events), then collects, checks and merges every frame. The same
// command again starts nothing: every chunk is recorded.
func TestRunCloudRunJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	w := startJobWorld(t)
	v := writeVideoProject(t, 5)
	events, stderr := runEvents(t, 0, jobArgs(v, "runs", "--tasks", "3")...)
	checkVideoMerged(t, v)
	xs := executionEvents(t, events)
	first, last := xs[0], xs[len(xs)-1]
	name, _ := first["execution"].(string)
	if first["state"] != "started" || first["tasks"] != float64(3) || !strings.HasPrefix(name, crJob+"/executions/render-job-") ||
		first["consoleUrl"] != "https://console.cloud.google.com/run/jobs/executions/details/us-central1/"+shortName(name)+"/tasks?project=p" {
		t.Errorf("first execution event %v: want the started execution of 3 tasks and its console URL", first)
	}
	if last["state"] != "succeeded" || last["succeeded"] != float64(3) || last["failed"] != float64(0) {
		t.Errorf("last execution event %v: want 3 tasks succeeded", last)
	}
	done := -1.0
	for _, e := range xs {
		if n, _ := e["succeeded"].(float64); n < done {
			t.Errorf("the succeeded count went down: %v", xs)
		} else {
			done = n
		}
	}
	if n := len(eventsOf(events, "finished")); n != 5 {
		t.Errorf("%d finished events, want one per chunk collected", n)
	}
	if s := summaryEvent(t, events); s["ok"] != float64(5) || s["failed"] != float64(0) || s["skipped"] != float64(0) {
		t.Errorf("summary %v: want 5 ok", s)
	}
	x, ok := w.API.Execution(name)
	env := map[string]string{}
	for _, e := range x.Template.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if !ok || x.TaskCount != 3 || !strings.HasPrefix(env["HELIOS_JOB_PATH"], "gs://"+jobsBucket+"/runs/jobs/job-") ||
		!strings.HasPrefix(env["HELIOS_OUTPUT_URL"], "gs://"+jobsBucket+"/runs/outputs/job-") {
		t.Errorf("the execution: %d tasks, env %v; want 3, the uploaded spec and the outputs folder below --upload\n%s", x.TaskCount, env, stderr)
	}
	if _, err := os.Stat(filepath.Join(v.Dir, ".job.helios-run.attach")); err == nil {
		t.Error("the attach file is left after the outputs were collected")
	}

	os.Remove(filepath.Join(v.Dir, "out.mp4"))
	events, stderr = runEvents(t, 0, jobArgs(v, "runs", "--tasks", "3")...)
	checkVideoMerged(t, v)
	if n := len(w.API.Executions(crJob)); n != 1 || len(eventsOf(events, "execution")) != 0 {
		t.Errorf("a rerun with every chunk done started an execution (%d in all):\n%s", n, stderr)
	}
	if s := summaryEvent(t, events); s["skipped"] != float64(5) || s["ok"] != float64(0) {
		t.Errorf("rerun summary %v: want 5 done before", s)
	}
}

// TestRunCloudRunJobAttach: --detach starts the execution and exits,
// naming it; --attach follows it, and when its context ends (the
// process is interrupted) exits 130 while the execution goes on (a
// chunk waits to be released); --attach again, by the execution's id,
// follows it to the end, collects and merges every frame.
func TestRunCloudRunJobAttach(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	w := startJobWorld(t)
	v := writeVideoProject(t, 4)
	withTaskFaults(t, v)
	mark(t, v, "wait-30", true)
	events, _ := runEvents(t, 0, jobArgs(v, "attach", "--detach")...)
	xs := executionEvents(t, events)
	name, _ := xs[0]["execution"].(string)
	if len(xs) != 2 || xs[0]["state"] != "started" || xs[1]["state"] != "detached" || xs[1]["execution"] != name || name == "" ||
		len(eventsOf(events, "summary")) != 0 {
		t.Fatalf("--detach printed %v; want the execution started and detached, and no summary", events)
	}
	if _, err := os.Stat(filepath.Join(v.Dir, ".job.helios-run.attach")); err != nil {
		t.Fatalf("--detach wrote no attach file: %v", err)
	}

	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	defer cancel()
	_, stderr := runEventsCtx(t, ctx, 130, func(e map[string]any) {
		if e["event"] == "execution" && e["state"] == "running" {
			cancel() // as a SIGINT would: mid-way, chunk 1 waits
		}
	}, jobArgs(v, "attach", "--attach", name)...)
	if !strings.Contains(stderr, "goes on in the cloud") {
		t.Errorf("the interrupted attach said:\n%s\nwant that the execution goes on", stderr)
	}
	if x, _ := w.API.Execution(name); x.CompletionTime != "" {
		t.Errorf("the execution completed while chunk 1 waited: %+v", x)
	}
	if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
		t.Error("merged before the execution completed")
	}

	mark(t, v, "release", true)
	events, _ = runEvents(t, 0, jobArgs(v, "attach", "--attach", shortName(name))...)
	checkVideoMerged(t, v)
	if s := summaryEvent(t, events); s["ok"] != float64(4) {
		t.Errorf("summary %v: want the 4 chunks collected", s)
	}
	if n := len(w.API.Executions(crJob)); n != 1 {
		t.Errorf("%d executions, want the one --detach started", n)
	}
}

// TestRunCloudRunJobFailedTask: the chunk at frame 30 fails every time,
// so task 1 of 3 (chunks 1 and 4) fails after its retry: run exits 1
// naming the task and its chunks, with the other outputs collected and
// nothing merged. Once the chunk renders, the same command starts an
// execution of that chunk only and merges every frame.
func TestRunCloudRunJobFailedTask(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	w := startJobWorld(t)
	v := writeVideoProject(t, 5)
	withTaskFaults(t, v)
	mark(t, v, "fail-30", true)
	events, stderr := runEvents(t, 1, jobArgs(v, "failed", "--tasks", "3")...)
	for _, want := range []string{"failed: 1 of 3 tasks failed for good", "task 1 (chunks [1 4]): exit code 1, after 2 attempts",
		"1 of 5 outputs are not there: chunks [1]", "the same command starts an execution of the 1 chunk left"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	for c := range 5 {
		_, err := os.Stat(filepath.Join(v.Dir, fmt.Sprintf("out_part_%d.mp4", c)))
		if (err == nil) != (c != 1) {
			t.Errorf("out_part_%d.mp4: %v; want every output but chunk 1's collected", c, err)
		}
	}
	if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
		t.Error("merged with chunk 1 missing")
	}
	if e := chunkEventOf(events, "failed", 1, 0); e == nil || !strings.HasPrefix(fmt.Sprint(e["reason"]), "task 1 failed (exit code 1, after 2 attempts); ") {
		t.Errorf("no failed event for chunk 1 naming its task: %v", events)
	}

	mark(t, v, "fail-30", false)
	events, _ = runEvents(t, 0, jobArgs(v, "failed", "--tasks", "3")...)
	checkVideoMerged(t, v)
	names := w.API.Executions(crJob)
	if len(names) != 2 {
		t.Fatalf("%d executions, want the failed one and one for chunk 1", len(names))
	}
	x, _ := w.API.Execution(names[1])
	if x.TaskCount != 1 || x.SucceededCount != 1 {
		t.Errorf("the second execution: %d tasks, %d succeeded; want the one chunk left", x.TaskCount, x.SucceededCount)
	}
	if s := summaryEvent(t, events); s["ok"] != float64(1) || s["skipped"] != float64(4) {
		t.Errorf("summary %v: want chunk 1 rendered, 4 done before", s)
	}
}

// shortName is the last part of a resource's full name.
func shortName(name string) string { return name[strings.LastIndex(name, "/")+1:] }
