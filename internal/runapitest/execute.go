package runapitest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
)

// Cloud Run's bounds and defaults for an execution.
const (
	maxTasks       = 10000
	defaultTimeout = 10 * time.Minute // a task's, when the job sets none
	// stopGrace is how long a task has between SIGTERM and SIGKILL.
	stopGrace = 10 * time.Second
)

// execution is one run of a job: the resource, its tasks, what their
// attempts wrote. res and tasks change under the server's mutex.
type execution struct {
	res     runapi.GoogleCloudRunV2Execution
	tasks   []*runapi.GoogleCloudRunV2Task
	output  []*syncbuf.Buffer
	op      string
	cancel  context.CancelFunc
	done    chan struct{} // closed once it completed
	failure string        // why it failed, once it did
}

// runPlan is how an execution runs its tasks.
type runPlan struct {
	runner                         TaskRunner
	job, jobID, executionID        string
	count, parallelism, maxRetries int
	timeout                        time.Duration
	env                            []string // the container's, overlaid by the overrides
}

// startLocked makes an execution of held with req's overrides and
// starts its tasks. s.mu is held.
func (s *Server) startLocked(held *heldJob, req *runapi.GoogleCloudRunV2RunJobRequest) (*execution, error) {
	job := &held.job
	tmpl := &runapi.GoogleCloudRunV2ExecutionTemplate{}
	if job.Template != nil {
		copyJSON(job.Template, tmpl)
	}
	if tmpl.Template == nil || len(tmpl.Template.Containers) == 0 {
		return nil, fmt.Errorf("job %s has no container to run", job.Name)
	}
	pl := runPlan{runner: held.runner, job: job.Name, jobID: job.Name[strings.LastIndex(job.Name, "/")+1:],
		count: max(int(tmpl.TaskCount), 1), parallelism: int(tmpl.Parallelism), maxRetries: int(tmpl.Template.MaxRetries),
		timeout: defaultTimeout}
	timeout := tmpl.Template.Timeout
	if ov := req.Overrides; ov != nil {
		if ov.TaskCount < 0 || ov.TaskCount > maxTasks {
			return nil, fmt.Errorf("overrides.taskCount %d: want 1 to %d", ov.TaskCount, maxTasks)
		}
		if ov.TaskCount > 0 {
			pl.count = int(ov.TaskCount)
		}
		if ov.Timeout != "" {
			timeout = ov.Timeout
		}
		if err := overlay(tmpl.Template.Containers, ov.ContainerOverrides); err != nil {
			return nil, err
		}
	}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout %q: want a duration in seconds such as 600s", timeout)
		}
		pl.timeout, tmpl.Template.Timeout = d, timeout
	}
	if pl.parallelism <= 0 || pl.parallelism > pl.count {
		pl.parallelism = pl.count
	}
	for _, e := range tmpl.Template.Containers[0].Env {
		pl.env = append(pl.env, e.Name+"="+e.Value)
	}

	pl.executionID = pl.jobID + "-" + randomID(5)
	now := stamp()
	x := &execution{done: make(chan struct{}), op: locationOf(job.Name) + "/operations/" + uuid()}
	x.res = runapi.GoogleCloudRunV2Execution{Name: job.Name + "/executions/" + pl.executionID, Uid: uuid(), Job: pl.jobID,
		Generation: 1, ObservedGeneration: 1, CreateTime: now, UpdateTime: now, LaunchStage: "GA", Reconciling: true,
		TaskCount: int64(pl.count), Parallelism: int64(pl.parallelism), Template: tmpl.Template,
		Conditions: []*runapi.GoogleCloudRunV2Condition{
			{Type: "ResourcesAvailable", State: "CONDITION_SUCCEEDED", LastTransitionTime: now},
			{Type: "Started", State: "CONDITION_PENDING", LastTransitionTime: now},
			{Type: "Completed", State: "CONDITION_PENDING", LastTransitionTime: now},
		}}
	for i := range pl.count {
		t := &runapi.GoogleCloudRunV2Task{Name: fmt.Sprintf("%s/tasks/%s-task%d", x.res.Name, pl.executionID, i), Uid: uuid(),
			Index: int64(i), Execution: pl.executionID, Job: pl.jobID, Generation: 1, ObservedGeneration: 1, CreateTime: now,
			MaxRetries: int64(pl.maxRetries), Timeout: tmpl.Template.Timeout, Containers: tmpl.Template.Containers,
			Conditions: []*runapi.GoogleCloudRunV2Condition{{Type: "Completed", State: "CONDITION_PENDING", LastTransitionTime: now}}}
		x.tasks = append(x.tasks, t)
		x.output = append(x.output, &syncbuf.Buffer{})
	}
	var ctx context.Context
	ctx, x.cancel = context.WithCancel(s.ctx)
	s.executions[x.res.Name] = x
	s.operations[x.op] = x.res.Name
	job.ExecutionCount++
	job.LatestCreatedExecution = &runapi.GoogleCloudRunV2ExecutionReference{Name: x.res.Name, CreateTime: now}
	s.running.Add(1)
	go s.execute(ctx, x, pl)
	return x, nil
}

// overlay sets the env of the overrides on the containers they name
// ("" names the first).
func overlay(containers []*runapi.GoogleCloudRunV2Container, overrides []*runapi.GoogleCloudRunV2ContainerOverride) error {
	for _, o := range overrides {
		var c *runapi.GoogleCloudRunV2Container
		for _, have := range containers {
			if have.Name == o.Name || o.Name == "" && have == containers[0] {
				c = have
				break
			}
		}
		if c == nil {
			return fmt.Errorf("overrides.containerOverrides: no container named %q", o.Name)
		}
	next:
		for _, e := range o.Env {
			for _, have := range c.Env {
				if have.Name == e.Name {
					have.Value, have.ValueSource = e.Value, nil
					continue next
				}
			}
			c.Env = append(c.Env, &runapi.GoogleCloudRunV2EnvVar{Name: e.Name, Value: e.Value})
		}
	}
	return nil
}

// execute runs x's tasks, pl.parallelism at a time, then completes it.
// Tasks not started when ctx ends are cancelled.
func (s *Server) execute(ctx context.Context, x *execution, pl runPlan) {
	defer s.running.Done()
	defer x.cancel()
	slots := make(chan struct{}, pl.parallelism)
	var wg sync.WaitGroup
	for i := range pl.count {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			s.update(x, func() {
				for _, t := range x.tasks[i:] {
					x.res.CancelledCount++
					t.CompletionTime = stamp()
					setCondition(&t.Conditions, "Completed", "CONDITION_FAILED", "CANCELLED", "The task was cancelled before it started.")
				}
			})
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.runTask(ctx, x, pl, i)
		})
	}
	wg.Wait()
	s.update(x, func() {
		res := &x.res
		res.CompletionTime, res.Reconciling = stamp(), false
		switch {
		case res.CancelledCount > 0:
			x.failure = fmt.Sprintf("The execution was cancelled: %d of %d tasks did not complete.", res.CancelledCount, res.TaskCount)
			setCondition(&res.Conditions, "Completed", "CONDITION_FAILED", "CANCELLED", x.failure)
		case res.FailedCount > 0:
			x.failure = fmt.Sprintf("Task %s failed with message: The container exited with an error.", firstFailed(x.tasks))
			if res.FailedCount > 1 {
				x.failure += fmt.Sprintf(" %d tasks failed in all.", res.FailedCount)
			}
			setCondition(&res.Conditions, "Completed", "CONDITION_FAILED", "NON_ZERO_EXIT_CODE", x.failure)
		default:
			start, _ := time.Parse(time.RFC3339Nano, res.CreateTime)
			setCondition(&res.Conditions, "Completed", "CONDITION_SUCCEEDED", "",
				fmt.Sprintf("Execution completed successfully in %v.", time.Since(start).Round(time.Millisecond)))
		}
	})
	close(x.done)
}

// firstFailed is the short name of the first task that failed.
func firstFailed(tasks []*runapi.GoogleCloudRunV2Task) string {
	for _, t := range tasks {
		if c := condition(t.Conditions, "Completed"); c != nil && c.ExecutionReason == "NON_ZERO_EXIT_CODE" {
			return t.Name[strings.LastIndex(t.Name, "/")+1:]
		}
	}
	return ""
}

// runTask runs task i until an attempt succeeds, maxRetries retries
// failed, or ctx ends, keeping its resource and x's counts up to date.
func (s *Server) runTask(ctx context.Context, x *execution, pl runPlan, i int) {
	t := x.tasks[i]
	for attempt := 0; ; attempt++ {
		s.update(x, func() {
			now := stamp()
			x.res.RunningCount++
			t.StartTime, t.CompletionTime = now, ""
			if x.res.StartTime == "" {
				x.res.StartTime = now
				setCondition(&x.res.Conditions, "Started", "CONDITION_SUCCEEDED", "", "")
			}
		})
		res, why := s.attempt(ctx, x, pl, i, attempt)
		stopped := ctx.Err() != nil
		s.update(x, func() {
			x.res.RunningCount--
			t.LastAttemptResult = res
			switch {
			case stopped:
				x.res.CancelledCount++
				t.CompletionTime = stamp()
				setCondition(&t.Conditions, "Completed", "CONDITION_FAILED", "CANCELLED", "The task was cancelled: "+why)
			case why == "":
				x.res.SucceededCount++
				t.CompletionTime = stamp()
				setCondition(&t.Conditions, "Completed", "CONDITION_SUCCEEDED", "", "")
			case attempt < pl.maxRetries:
				if t.Retried++; t.Retried == 1 {
					x.res.RetriedCount++
				}
			default:
				x.res.FailedCount++
				t.CompletionTime = stamp()
				setCondition(&t.Conditions, "Completed", "CONDITION_FAILED", "NON_ZERO_EXIT_CODE",
					fmt.Sprintf("Task %s failed after %d attempts: %s", t.Name[strings.LastIndex(t.Name, "/")+1:], attempt+1, why))
			}
		})
		if stopped || why == "" || attempt >= pl.maxRetries {
			return
		}
	}
}

// attempt runs one attempt of task i and returns its result, and why it
// failed ("" when it succeeded).
func (s *Server) attempt(ctx context.Context, x *execution, pl runPlan, i, attempt int) (*runapi.GoogleCloudRunV2TaskAttemptResult, string) {
	a := TaskAttempt{Job: pl.job, Execution: x.res.Name, Task: x.tasks[i].Name, Index: i, Count: pl.count, Attempt: attempt,
		Env: append(append([]string(nil), pl.env...), "CLOUD_RUN_JOB="+pl.jobID, "CLOUD_RUN_EXECUTION="+pl.executionID,
			"CLOUD_RUN_TASK_INDEX="+strconv.Itoa(i), "CLOUD_RUN_TASK_ATTEMPT="+strconv.Itoa(attempt), "CLOUD_RUN_TASK_COUNT="+strconv.Itoa(pl.count))}
	fail := func(code int64, why string) (*runapi.GoogleCloudRunV2TaskAttemptResult, string) {
		return &runapi.GoogleCloudRunV2TaskAttemptResult{ExitCode: code, Status: &runapi.GoogleRpcStatus{Code: 2, Message: why}}, why
	}
	out := x.output[i]
	fmt.Fprintf(out, "=== %s attempt %d ===\n", a.Task, attempt)
	actx, cancel := context.WithTimeout(ctx, pl.timeout)
	defer cancel()
	cmd := pl.runner.Command(actx, a)
	if cmd == nil {
		return fail(0, "the TaskRunner made no command")
	}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = out
	}
	cmd.SysProcAttr, cmd.WaitDelay = procAttr(), stopGrace
	if err := cmd.Start(); err != nil {
		return fail(0, "the container could not start: "+err.Error())
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
			return
		case <-actx.Done():
		}
		syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopGrace):
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	}()
	err := cmd.Wait()
	close(exited)
	syscall.Kill(-pid, syscall.SIGKILL) // what the task left in its group
	timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	ee, isExit := errors.AsType[*exec.ExitError](err)
	switch {
	case err == nil && !timedOut:
		return &runapi.GoogleCloudRunV2TaskAttemptResult{Status: &runapi.GoogleRpcStatus{}}, ""
	case timedOut:
		return fail(0, fmt.Sprintf("Task timed out after %v.", pl.timeout))
	case isExit && ee.ExitCode() >= 0:
		return fail(int64(ee.ExitCode()), fmt.Sprintf("The container exited with an error (exit code %d).", ee.ExitCode()))
	case isExit:
		res, why := fail(0, "The container was terminated by a signal: "+ee.String()+".")
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.TermSignal = int64(ws.Signal())
		}
		return res, why
	}
	return fail(0, err.Error())
}

// update runs fn on x under the server's mutex, and stamps x.
func (s *Server) update(x *execution, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
	x.res.UpdateTime = stamp()
}
