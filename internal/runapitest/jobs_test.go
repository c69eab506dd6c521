package runapitest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

const jobName = "projects/my-project/locations/us-central1/jobs/render"

// renderJob is a job of tasks tasks, parallelism at a time, each retried
// up to retries times, whose container sets HELIOS_JOB_PATH and FOO.
func renderJob(tasks, parallelism, retries int64, timeout string) *runapi.GoogleCloudRunV2Job {
	return &runapi.GoogleCloudRunV2Job{Name: jobName, Template: &runapi.GoogleCloudRunV2ExecutionTemplate{
		TaskCount: tasks, Parallelism: parallelism,
		Template: &runapi.GoogleCloudRunV2TaskTemplate{MaxRetries: retries, Timeout: timeout,
			Containers: []*runapi.GoogleCloudRunV2Container{{Image: "us-docker.pkg.dev/my-project/helios/render:v1",
				Env: []*runapi.GoogleCloudRunV2EnvVar{{Name: "HELIOS_JOB_PATH", Value: "gs://jobs/template.json"}, {Name: "FOO", Value: "bar"}}}},
		},
	}}
}

// shell is a TaskRunner that runs script with sh, OUT naming dir.
func shell(dir, script string) runapitest.TaskRunner {
	return runapitest.Binary{Path: "/bin/sh", Args: []string{"-c", script}, Env: append(os.Environ(), "OUT="+dir)}
}

// run starts an execution of the job through the official client and
// returns it, from the operation's metadata.
func run(t *testing.T, srv *runapitest.Server, req *runapi.GoogleCloudRunV2RunJobRequest) *runapi.GoogleCloudRunV2Execution {
	t.Helper()
	x, _ := runOp(t, srv, req)
	return x
}

// runOp is run, and the name of the run's operation.
func runOp(t *testing.T, srv *runapitest.Server, req *runapi.GoogleCloudRunV2RunJobRequest) (*runapi.GoogleCloudRunV2Execution, string) {
	t.Helper()
	op, err := client(t, srv).Projects.Locations.Jobs.Run(jobName, req).Context(testdeadline.Context(t)).Do()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(op.Name, "projects/my-project/locations/us-central1/operations/") || op.Done {
		t.Errorf("operation %s (done %v): want one of the job's location, not done", op.Name, op.Done)
	}
	var x runapi.GoogleCloudRunV2Execution
	if err := json.Unmarshal(op.Metadata, &x); err != nil {
		t.Fatalf("the operation's metadata %s: %v", op.Metadata, err)
	}
	if !strings.HasPrefix(x.Name, jobName+"/executions/render-") || x.Job != "render" {
		t.Fatalf("the operation's metadata names execution %q of job %q", x.Name, x.Job)
	}
	return &x, op.Name
}

// wait waits until the execution completes, and returns it as the
// official client reads it.
func wait(t *testing.T, srv *runapitest.Server, name string) *runapi.GoogleCloudRunV2Execution {
	t.Helper()
	select {
	case <-srv.Done(name):
	case <-testdeadline.After(t):
		t.Fatalf("execution %s never completed", name)
	}
	x, err := client(t, srv).Projects.Locations.Jobs.Executions.Get(name).Context(testdeadline.Context(t)).Do()
	if err != nil {
		t.Fatal(err)
	}
	if x.CompletionTime == "" || x.RunningCount != 0 {
		t.Errorf("execution %s done: completionTime %q, %d running", name, x.CompletionTime, x.RunningCount)
	}
	return x
}

// tasks lists the execution's tasks through the client, two a page.
func tasks(t *testing.T, srv *runapitest.Server, execution string) []*runapi.GoogleCloudRunV2Task {
	t.Helper()
	var all []*runapi.GoogleCloudRunV2Task
	err := client(t, srv).Projects.Locations.Jobs.Executions.Tasks.List(execution).PageSize(2).
		Pages(testdeadline.Context(t), func(r *runapi.GoogleCloudRunV2ListTasksResponse) error {
			all = append(all, r.Tasks...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// completed is the state of the Completed condition.
func completed(conds []*runapi.GoogleCloudRunV2Condition) string {
	for _, c := range conds {
		if c.Type == "Completed" {
			return c.State
		}
	}
	return ""
}

// TestRunJob: an execution runs one process per task, with the job's env
// overlaid by the run's overrides and Cloud Run's variables; its counts,
// tasks, operation and job show it through the official client.
func TestRunJob(t *testing.T) {
	srv := runapitest.Start(t)
	dir := t.TempDir()
	srv.PutJob(renderJob(2, 0, 0, ""), shell(dir, `printf '%s\n' "$HELIOS_JOB_PATH" "$FOO" "$NEW" "$CLOUD_RUN_JOB" "$CLOUD_RUN_EXECUTION" `+
		`"$CLOUD_RUN_TASK_INDEX" "$CLOUD_RUN_TASK_COUNT" "$CLOUD_RUN_TASK_ATTEMPT" > "$OUT/task-$CLOUD_RUN_TASK_INDEX"`))
	started, opName := runOp(t, srv, &runapi.GoogleCloudRunV2RunJobRequest{Overrides: &runapi.GoogleCloudRunV2Overrides{TaskCount: 3,
		ContainerOverrides: []*runapi.GoogleCloudRunV2ContainerOverride{{Env: []*runapi.GoogleCloudRunV2EnvVar{
			{Name: "HELIOS_JOB_PATH", Value: "gs://jobs/override.json"}, {Name: "NEW", Value: "1"}}}}}})
	if started.TaskCount != 3 || started.CompletionTime != "" {
		t.Errorf("started %+v: want 3 tasks, not complete", started)
	}
	x := wait(t, srv, started.Name)
	if x.SucceededCount != 3 || x.FailedCount != 0 || x.TaskCount != 3 || x.StartTime == "" || completed(x.Conditions) != "CONDITION_SUCCEEDED" {
		t.Errorf("execution %+v: want 3 tasks succeeded, started and Completed", x)
	}
	id := started.Name[strings.LastIndex(started.Name, "/")+1:]
	for i := range 3 {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("task-%d", i)))
		want := fmt.Sprintf("gs://jobs/override.json\nbar\n1\nrender\n%s\n%d\n3\n0\n", id, i)
		if err != nil || string(got) != want {
			t.Errorf("task %d's environment:\n%s(%v)\nwant\n%s", i, got, err, want)
		}
	}
	ts := tasks(t, srv, started.Name)
	if len(ts) != 3 {
		t.Fatalf("%d tasks listed, want 3", len(ts))
	}
	for i, task := range ts {
		if task.Index != int64(i) || task.Name != fmt.Sprintf("%s/tasks/%s-task%d", started.Name, id, i) || task.Execution != id ||
			completed(task.Conditions) != "CONDITION_SUCCEEDED" || task.StartTime == "" || task.CompletionTime == "" || task.Retried != 0 {
			t.Errorf("task %d: %+v", i, task)
		}
	}
	c := client(t, srv)
	ctx := testdeadline.Context(t)
	job, err := c.Projects.Locations.Jobs.Get(jobName).Context(ctx).Do()
	if err != nil || job.ExecutionCount != 1 || job.LatestCreatedExecution == nil || job.LatestCreatedExecution.Name != started.Name {
		t.Errorf("jobs.get after the run: %+v, %v", job, err)
	}
	list, err := c.Projects.Locations.Jobs.Executions.List(jobName).Context(ctx).Do()
	if err != nil || len(list.Executions) != 1 || list.Executions[0].Name != started.Name {
		t.Errorf("executions.list: %+v, %v", list, err)
	}
	op, err := c.Projects.Locations.Operations.Get(opName).Context(ctx).Do()
	var resp runapi.GoogleCloudRunV2Execution
	if err != nil || !op.Done || op.Error != nil || json.Unmarshal(op.Response, &resp) != nil || resp.SucceededCount != 3 {
		t.Errorf("operations.get: %+v, %v; want done, with the execution as its response", op, err)
	}
}

// TestRetries: a failed task is tried again with the next
// CLOUD_RUN_TASK_ATTEMPT up to maxRetries; the counts, each task's
// retried and last attempt, the conditions and the operation say how it
// went.
func TestRetries(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutJob(renderJob(3, 0, 2, ""), shell(t.TempDir(), `case $CLOUD_RUN_TASK_INDEX in
0) exit 0;;
1) test "$CLOUD_RUN_TASK_ATTEMPT" -ge 1;;
*) echo "boom $CLOUD_RUN_TASK_ATTEMPT" >&2; exit 7;;
esac`))
	x := wait(t, srv, run(t, srv, nil).Name)
	if x.SucceededCount != 2 || x.FailedCount != 1 || x.RetriedCount != 2 || completed(x.Conditions) != "CONDITION_FAILED" {
		t.Errorf("execution %+v: want 2 succeeded, 1 failed, 2 retried, Completed failed", x)
	}
	ts := tasks(t, srv, x.Name)
	for i, want := range []struct {
		retried, exit int64
		state         string
	}{{0, 0, "CONDITION_SUCCEEDED"}, {1, 0, "CONDITION_SUCCEEDED"}, {2, 7, "CONDITION_FAILED"}} {
		task := ts[i]
		if task.Retried != want.retried || task.LastAttemptResult == nil || task.LastAttemptResult.ExitCode != want.exit || completed(task.Conditions) != want.state {
			t.Errorf("task %d: retried %d, last attempt %+v, %s; want %+v", i, task.Retried, task.LastAttemptResult, completed(task.Conditions), want)
		}
	}
	if out := srv.TaskOutput(ts[2].Name); strings.Count(out, "boom") != 3 || !strings.Contains(out, "boom 2") || !strings.Contains(out, "attempt 2 ===") {
		t.Errorf("task 2's output:\n%s\nwant its 3 attempts", out)
	}
	op, err := client(t, srv).Projects.Locations.Jobs.Executions.Cancel(x.Name, &runapi.GoogleCloudRunV2CancelExecutionRequest{}).
		Context(testdeadline.Context(t)).Do()
	if err != nil || !op.Done || op.Error == nil || !strings.Contains(op.Error.Message, ts[2].Name[strings.LastIndex(ts[2].Name, "/")+1:]) {
		t.Errorf("the failed execution's operation: %+v, %v; want done with an error naming task 2", op, err)
	}
}

// TestParallelism: no more tasks run at once than the job's parallelism.
func TestParallelism(t *testing.T) {
	srv := runapitest.Start(t)
	dir := t.TempDir()
	srv.PutJob(renderJob(5, 2, 0, ""), shell(dir, `echo + >> "$OUT/log"; sleep 0.2; echo - >> "$OUT/log"`))
	wait(t, srv, run(t, srv, nil).Name)
	data, _ := os.ReadFile(filepath.Join(dir, "log"))
	running, most := 0, 0
	for line := range strings.Lines(string(data)) {
		if line == "+\n" {
			running++
		} else {
			running--
		}
		most = max(most, running)
	}
	if strings.Count(string(data), "+") != 5 || most > 2 {
		t.Errorf("log %q: want 5 tasks, at most 2 at once (saw %d)", data, most)
	}
}

// TestCancelAndClose: executions.cancel stops the running task and the
// ones not started, which count as cancelled; Close stops a running
// execution's processes before it returns. A task whose timeout passes
// fails.
func TestCancelAndClose(t *testing.T) {
	srv := runapitest.New()
	defer srv.Close()
	dir := t.TempDir()
	srv.PutJob(renderJob(2, 1, 3, ""), shell(dir, `echo $$ > "$OUT/pid.tmp"; mv "$OUT/pid.tmp" "$OUT/pid"; exec sleep 600`))
	pid := func() int {
		t.Helper()
		deadline := time.Now().Add(testdeadline.Remaining(t))
		for time.Now().Before(deadline) {
			if data, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil {
				os.Remove(filepath.Join(dir, "pid"))
				n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the task never started")
		return 0
	}
	x := run(t, srv, nil)
	first := pid()
	if _, err := client(t, srv).Projects.Locations.Jobs.Executions.Cancel(x.Name, &runapi.GoogleCloudRunV2CancelExecutionRequest{}).
		Context(testdeadline.Context(t)).Do(); err != nil {
		t.Fatal(err)
	}
	got := wait(t, srv, x.Name)
	if got.CancelledCount != 2 || got.SucceededCount+got.FailedCount+got.RetriedCount != 0 || completed(got.Conditions) != "CONDITION_FAILED" {
		t.Errorf("cancelled execution %+v: want 2 cancelled, nothing else", got)
	}
	if procfs.Running(first) {
		t.Errorf("the cancelled task's process %d still runs", first)
	}

	x = run(t, srv, nil)
	second := pid()
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-testdeadline.After(t):
		t.Fatal("Close did not return")
	}
	if procfs.Running(second) {
		t.Errorf("the task's process %d still runs after Close", second)
	}
	if got, _ := srv.Execution(x.Name); got.CompletionTime == "" || got.CancelledCount != 2 {
		t.Errorf("execution after Close: %+v; want complete, its tasks cancelled", got)
	}

	srv = runapitest.Start(t)
	srv.PutJob(renderJob(1, 0, 0, "1s"), shell(dir, "exec sleep 600"))
	got = wait(t, srv, run(t, srv, nil).Name)
	ts := tasks(t, srv, got.Name)
	if got.FailedCount != 1 || len(ts) != 1 || ts[0].LastAttemptResult == nil || !strings.Contains(ts[0].LastAttemptResult.Status.Message, "timed out") {
		t.Errorf("a task past its timeout: %+v, tasks %+v; want it failed, timed out", got, ts)
	}
}

// TestJobErrors: what the API refuses, in Google's error shape, through
// the client.
func TestJobErrors(t *testing.T) {
	srv := runapitest.Start(t)
	c := client(t, srv)
	ctx := testdeadline.Context(t)
	code := func(err error) int {
		var gerr *googleapi.Error
		if !errors.As(err, &gerr) {
			return 0
		}
		return gerr.Code
	}
	if _, err := c.Projects.Locations.Jobs.Run(jobName, nil).Context(ctx).Do(); code(err) != http.StatusNotFound || !strings.Contains(err.Error(), "'render' of kind 'JOB'") {
		t.Errorf("run of a job not put: %v", err)
	}
	srv.PutJob(renderJob(1, 0, 0, ""), nil)
	if _, err := c.Projects.Locations.Jobs.Run(jobName, nil).Context(ctx).Do(); code(err) != http.StatusBadRequest {
		t.Errorf("run of a job without a runner: %v", err)
	}
	srv.PutJob(renderJob(1, 0, 0, ""), shell(t.TempDir(), "exit 0"))
	for _, ov := range []*runapi.GoogleCloudRunV2Overrides{{TaskCount: 10001}, {Timeout: "soon"},
		{ContainerOverrides: []*runapi.GoogleCloudRunV2ContainerOverride{{Name: "sidecar"}}}} {
		if _, err := c.Projects.Locations.Jobs.Run(jobName, &runapi.GoogleCloudRunV2RunJobRequest{Overrides: ov}).Context(ctx).Do(); code(err) != http.StatusBadRequest {
			t.Errorf("run with overrides %+v: %v, want 400", ov, err)
		}
	}
	absent := jobName + "/executions/render-zzzzz"
	if _, err := c.Projects.Locations.Jobs.Executions.Get(absent).Context(ctx).Do(); code(err) != http.StatusNotFound {
		t.Errorf("get of an unknown execution: %v", err)
	}
	if _, err := c.Projects.Locations.Jobs.Executions.Tasks.List(absent).Context(ctx).Do(); code(err) != http.StatusNotFound {
		t.Errorf("tasks of an unknown execution: %v", err)
	}
	x := wait(t, srv, run(t, srv, nil).Name)
	srv.Deny(jobName)
	srv.Deny(x.Name)
	for what, err := range map[string]error{
		"run.jobs.run":       second(c.Projects.Locations.Jobs.Run(jobName, nil).Context(ctx).Do()),
		"run.jobs.get":       second(c.Projects.Locations.Jobs.Get(jobName).Context(ctx).Do()),
		"run.executions.get": second(c.Projects.Locations.Jobs.Executions.Get(x.Name).Context(ctx).Do()),
		"run.tasks.list":     second(c.Projects.Locations.Jobs.Executions.Tasks.List(x.Name).Context(ctx).Do()),
	} {
		if code(err) != http.StatusForbidden || !strings.Contains(err.Error(), "'"+what+"'") {
			t.Errorf("%s when denied: %v", what, err)
		}
	}
	if n := len(srv.Executions(jobName)); n != 1 {
		t.Errorf("%d executions, want the one run", n)
	}
	for _, n := range []string{"", "render", "projects/p/locations/l/services/s", "projects/p/locations/l/jobs/j/executions/e"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PutJob(%q) did not panic", n)
				}
			}()
			srv.PutJob(&runapi.GoogleCloudRunV2Job{Name: n}, nil)
		}()
	}
	if !slices.Equal(srv.Executions("projects/x/locations/y/jobs/z"), nil) {
		t.Error("executions of a job never put")
	}
}

func second[T any](_ T, err error) error { return err }
