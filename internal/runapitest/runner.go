package runapitest

import (
	"context"
	"os/exec"
	"slices"
)

// A TaskRunner makes the process of one attempt of one task of an
// execution, as Cloud Run would start the job's container: the server
// starts it, in a process group of its own, stops it (SIGTERM to the
// group, SIGKILL 10 s later) when the execution is cancelled, the task
// times out or the server closes, and reads its exit code.
type TaskRunner interface {
	// Command returns the attempt's command, not started. The server
	// sets its Stdout and Stderr (what the attempt writes is kept, see
	// [Server.TaskOutput]) unless they are set, and its SysProcAttr.
	// ctx ends when the attempt must stop.
	Command(ctx context.Context, a TaskAttempt) *exec.Cmd
}

// TaskRunnerFunc is a func as a TaskRunner.
type TaskRunnerFunc func(ctx context.Context, a TaskAttempt) *exec.Cmd

// Command calls f.
func (f TaskRunnerFunc) Command(ctx context.Context, a TaskAttempt) *exec.Cmd { return f(ctx, a) }

// TaskAttempt is one attempt of one task of an execution.
type TaskAttempt struct {
	// Job, Execution and Task are the full names.
	Job, Execution, Task string
	// Index is the task's (CLOUD_RUN_TASK_INDEX), Count the execution's
	// task count (CLOUD_RUN_TASK_COUNT), Attempt 0 for the first try
	// (CLOUD_RUN_TASK_ATTEMPT).
	Index, Count, Attempt int
	// Env is the task's environment as Cloud Run sets it, NAME=VALUE:
	// the env of the job template's container, overlaid by the run's
	// container overrides, then CLOUD_RUN_JOB, CLOUD_RUN_EXECUTION,
	// CLOUD_RUN_TASK_INDEX, CLOUD_RUN_TASK_ATTEMPT and
	// CLOUD_RUN_TASK_COUNT.
	Env []string
}

// Binary is a TaskRunner that runs the program at Path with Args, in Dir
// (the server's working directory when ""), with Env (such as
// os.Environ() and STORAGE_EMULATOR_HOST) and then the task's
// environment, which wins where both set a name.
type Binary struct {
	Path string
	Args []string
	Dir  string
	Env  []string
}

// Command is the attempt's command.
func (b Binary) Command(_ context.Context, a TaskAttempt) *exec.Cmd {
	cmd := exec.Command(b.Path, b.Args...)
	cmd.Dir = b.Dir
	cmd.Env = append(slices.Clone(b.Env), a.Env...)
	return cmd
}
