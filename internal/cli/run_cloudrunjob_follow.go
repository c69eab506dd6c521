package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"google.golang.org/api/googleapi"
	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// How run follows an execution: it reads it every executionPoll, and
// gives up after maxPollFailures reads in a row that failed for a reason
// that may pass (each said, with a wait that grows to a minute).
const (
	executionPoll   = 2 * time.Second
	maxPollFailures = 10
)

// executionEvent is the progress of an execution (a Cloud Run job's or
// a Step Functions state machine's), as run --progress json prints it:
// when it starts or is followed, and whenever its counts change.
type executionEvent struct {
	Time time.Time `json:"time"`
	Kind string    `json:"event"` // "execution"
	// State is started, detached, attached, running, succeeded or
	// failed; a Step Functions execution may also be timed_out, aborted
	// or pending_redrive.
	State      string `json:"state"`
	Execution  string `json:"execution"` // a Cloud Run execution's name, a Step Functions execution's ARN
	ConsoleURL string `json:"consoleUrl,omitempty"`
	// Tasks counts a Cloud Run execution's tasks, Chunks a Step
	// Functions execution's; the counts below are of those.
	Tasks     int64 `json:"tasks,omitempty"`
	Chunks    int64 `json:"chunks,omitempty"`
	Pending   int64 `json:"pending,omitempty"`
	Running   int64 `json:"running"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Retried   int64 `json:"retried,omitempty"` // tasks retried at least once
	Cancelled int64 `json:"cancelled,omitempty"`
}

// counts are an event's figures, to tell when they change.
func (e executionEvent) counts() [6]int64 {
	return [6]int64{e.Tasks, e.Running, e.Succeeded, e.Failed, e.Retried, e.Cancelled}
}

// eventOf is x's progress.
func eventOf(x *runapi.GoogleCloudRunV2Execution) executionEvent {
	e := executionEvent{State: "running", Execution: x.Name, Tasks: x.TaskCount, Running: x.RunningCount, Succeeded: x.SucceededCount,
		Failed: x.FailedCount, Retried: x.RetriedCount, Cancelled: x.CancelledCount}
	if completed(x) {
		e.State = "succeeded"
		if !succeeded(x) {
			e.State = "failed"
		}
	}
	return e
}

// completed reports whether x has ended: it has a completion time, or
// its Completed condition says how it ended.
func completed(x *runapi.GoogleCloudRunV2Execution) bool {
	if x.CompletionTime != "" {
		return true
	}
	c := conditionOf(x.Conditions, "Completed")
	return c != nil && (c.State == "CONDITION_SUCCEEDED" || c.State == "CONDITION_FAILED")
}

// succeeded reports whether every task of x, which has completed,
// succeeded.
func succeeded(x *runapi.GoogleCloudRunV2Execution) bool {
	if c := conditionOf(x.Conditions, "Completed"); c != nil && c.State == "CONDITION_FAILED" {
		return false
	}
	return x.FailedCount == 0 && x.CancelledCount == 0 && x.SucceededCount >= x.TaskCount
}

func conditionOf(conds []*runapi.GoogleCloudRunV2Condition, typ string) *runapi.GoogleCloudRunV2Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// follow reads the execution every executionPoll until it completes,
// showing its task counts as they change, and returns it.
func (x *jobExec) follow(ctx context.Context) (*runapi.GoogleCloudRunV2Execution, error) {
	name := x.att.Execution
	x.prog.execution(executionEvent{State: "attached", Execution: name, ConsoleURL: x.att.Console, Tasks: x.att.Tasks})
	var last [6]int64
	failures := 0
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		ex, err := x.api.Projects.Locations.Jobs.Executions.Get(name).Context(ctx).Do()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && passing(err) && failures < maxPollFailures:
			failures++
			wait = min(executionPoll<<failures, time.Minute)
			x.prog.line("reading execution %s failed (%v); trying again in %v", name, err, wait)
			continue
		case err != nil:
			return nil, fmt.Errorf("following execution %s: %w; it goes on in the cloud: --attach %s follows it again",
				name, explainAPI(err, "run.executions.get", name), shortName(name))
		}
		failures, wait = 0, executionPoll
		e := eventOf(ex)
		if x.att.Tasks == 0 {
			x.att.Tasks = ex.TaskCount
		}
		if e.counts() != last || e.State != "running" {
			x.prog.execution(e)
			last = e.counts()
		}
		if completed(ex) {
			return ex, nil
		}
	}
}

// passing reports whether a failed read may pass: the API throttled, or
// was briefly unavailable, or the connection dropped.
func passing(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500
	}
	return true // not an answer of the API: the network
}

// listTasks reads the execution's tasks; nil, said, when it cannot.
func (x *jobExec) listTasks(ctx context.Context) []*runapi.GoogleCloudRunV2Task {
	var all []*runapi.GoogleCloudRunV2Task
	err := x.api.Projects.Locations.Jobs.Executions.Tasks.List(x.att.Execution).Pages(ctx, func(r *runapi.GoogleCloudRunV2ListTasksResponse) error {
		all = append(all, r.Tasks...)
		return nil
	})
	if err != nil {
		x.prog.line("could not list the tasks of %s (%v): which ones failed, and their cost, are unknown",
			x.att.Execution, explainAPI(err, "run.tasks.list", x.att.Execution))
		return nil
	}
	return all
}

// Keys of progress.counts for an execution's tasks, beside the chunk
// events' kinds.
const (
	tasksRetried = "tasks retried"
	tasksFailed  = "tasks failed"
)

// execution shows an execution's progress: a JSON line; for a Cloud
// Run job's, the bar's count of tasks, or a line when it starts and when
// tasks fail (for a Step Functions one, see stepFunctionsLocked).
func (p *progress) execution(e executionEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.Time, e.Kind = time.Now(), "execution"
	if p.json != nil {
		p.json.Encode(e)
		return
	}
	if strings.HasPrefix(e.Execution, "arn:") {
		p.stepFunctionsLocked(e)
		return
	}
	if e.State == "started" {
		p.lineLocked("started execution %s: %d tasks; the console shows them at %s", e.Execution, e.Tasks, e.ConsoleURL)
	}
	if e.Retried > int64(p.counts[tasksRetried]) {
		p.lineLocked("%s retried so far", counted(int(e.Retried), "task"))
	}
	if e.Failed > int64(p.counts[tasksFailed]) {
		p.lineLocked("%d of %d tasks failed for good", e.Failed, e.Tasks)
	}
	p.counts[tasksRetried], p.counts[tasksFailed] = int(e.Retried), int(e.Failed)
	if p.bar == nil || e.Tasks == 0 {
		return
	}
	p.bar.Describe(fmt.Sprintf("ok %d · failed %d · running %d · retried %d", e.Succeeded, e.Failed, e.Running, e.Retried))
	if p.bar.GetMax() != int(e.Tasks) {
		p.bar.ChangeMax(int(e.Tasks))
	}
	p.bar.Set(int(e.Succeeded + e.Failed + e.Cancelled))
}

// newJobProgress is newProgress for an execution: its bar counts tasks.
func newJobProgress(mode string, stdout, stderr io.Writer, tasks int) *progress {
	if mode == "auto" {
		if f, ok := stderr.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
			return newProgress(mode, stdout, stderr, tasks)
		}
		mode = "bar"
	}
	if mode != "bar" {
		return newProgress(mode, stdout, stderr, tasks)
	}
	p := newProgress("none", stdout, stderr, tasks)
	p.bar = progressbar.NewOptions(tasks, progressbar.OptionSetWriter(stderr),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("tasks"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(), progressbar.OptionSetRenderBlankState(true))
	return p
}

// event tells a chunk's outcome (collected, done before, failed) as run
// tells a chunk's events, without moving the bar, which counts tasks.
func (x *jobExec) event(e fanout.Event) {
	x.rec.event(e)
	p := x.prog
	if p.json != nil || e.Kind == fanout.EventFailed {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.json != nil {
			p.json.Encode(e)
			return
		}
		p.lineLocked("chunk %d failed: %s", e.Chunk, e.Reason)
	}
}
