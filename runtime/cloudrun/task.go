package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Environment of a Cloud Run job's task.
const (
	// EnvJobPath names the job spec that every task of an execution
	// renders its share of (any jobPath form).
	EnvJobPath      = "HELIOS_JOB_PATH"
	EnvTaskIndex    = "CLOUD_RUN_TASK_INDEX"   // 0-based, set by Cloud Run
	EnvTaskCount    = "CLOUD_RUN_TASK_COUNT"   // tasks in the execution
	EnvTaskAttempt  = "CLOUD_RUN_TASK_ATTEMPT" // 0 on the first attempt
	ExitCannotStart = 2                        // no spec, or a spec that cannot be read
	ExitTimeout     = 124                      // a chunk ran out of time, or was killed for idling
)

// Task is one task of a Cloud Run job execution.
type Task struct {
	Index, Count, Attempt int
}

// TaskFromEnv reads the task's index, count and attempt; unset, they are
// 0, 1 and 0 (a lone task).
func TaskFromEnv() (Task, error) {
	t := Task{Count: 1}
	var errs []error
	for _, v := range []struct {
		name string
		dst  *int
		min  int
	}{{EnvTaskIndex, &t.Index, 0}, {EnvTaskCount, &t.Count, 1}, {EnvTaskAttempt, &t.Attempt, 0}} {
		s := os.Getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.min {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of at least %d", v.name, s, v.min))
			continue
		}
		*v.dst = n
	}
	if err := errors.Join(errs...); err != nil {
		return t, err
	}
	if t.Index >= t.Count {
		return t, fmt.Errorf("%s=%d is not below %s=%d", EnvTaskIndex, t.Index, EnvTaskCount, t.Count)
	}
	return t, nil
}

// Positions are the array positions of the chunks that task t of a spec
// with n chunks runs: t.Index, t.Index+t.Count, ...
func (t Task) Positions(n int) []int {
	var p []int
	for i := t.Index; i < n; i += t.Count {
		p = append(p, i)
	}
	return p
}

// RunTask runs a Cloud Run job's task: it reads the spec at
// $HELIOS_JOB_PATH, runs the chunks at this task's positions one after
// the other, logs a line per chunk, and returns the process's exit code:
// 0 when every chunk succeeded (or the task had none); otherwise the first
// failing chunk's exit code (128+n for a signal, 124 for its timeout or
// HELIOS_CHUNK_IDLE_TIMEOUT, 1 when it could not run or its output could
// not be uploaded); 2 when the task cannot start, which includes a
// HELIOS_JOB_PATH outside HELIOS_ALLOWED_JOB_PATHS (checked before
// anything is fetched). On a retried attempt, a chunk whose output object
// already exists is skipped. When ctx ends (SIGTERM), the running chunk's
// process group is killed and RunTask returns 143 at once.
func RunTask(ctx context.Context, w *worker.Worker) int {
	slog.SetDefault(slog.New(NewLogHandler(os.Stdout, slog.LevelInfo)))
	t, err := TaskFromEnv()
	if err == nil {
		err = w.Config().Validate()
	}
	path := os.Getenv(EnvJobPath)
	if err == nil && path == "" {
		err = fmt.Errorf("%s is not set: it names the job spec that the tasks render", EnvJobPath)
	}
	if err == nil {
		err = w.CheckJobPath(path) // HELIOS_ALLOWED_JOB_PATHS holds for the task's spec too
	}
	var spec *jobspec.Spec
	if err == nil {
		spec, err = w.LoadSpec(ctx, path)
	}
	if err != nil {
		slog.Error("task cannot start", "error", err.Error(), "jobPath", path)
		return ExitCannotStart
	}
	positions := t.Positions(len(spec.Chunks))
	log := slog.With("job", spec.ID, "task", t.Index, "tasks", t.Count, "attempt", t.Attempt)
	if len(positions) == 0 {
		log.Info(fmt.Sprintf("task %d of %d has no chunk of the %d: nothing to do", t.Index, t.Count, len(spec.Chunks)))
		return 0
	}
	log.Info("task started", "jobPath", path, "chunks", len(positions))
	code := 0
	for _, pos := range positions {
		c := runTaskChunk(ctx, w, log, spec, &spec.Chunks[pos], t.Attempt > 0)
		if ctx.Err() != nil {
			log.Error("task terminated: the running chunk was killed")
			return 128 + int(syscall.SIGTERM)
		}
		if code == 0 {
			code = c
		}
	}
	return code
}

// runTaskChunk runs one chunk, or skips it on a retry when its output is
// stored already, logs the outcome, and returns its exit code.
func runTaskChunk(ctx context.Context, w *worker.Worker, log *slog.Logger, spec *jobspec.Spec, c *jobspec.Chunk, retry bool) int {
	if retry {
		switch where, ok, err := w.OutputExists(ctx, spec, c); {
		case err != nil:
			log.Warn("cannot tell whether the chunk's output exists: running it", "chunkId", c.ID, "error", err.Error())
		case ok:
			log.Info("chunk skipped: its output exists from an earlier attempt", "chunkId", c.ID, "outputUrl", where)
			return 0
		}
	}
	res := w.RunChunk(ctx, spec, c)
	code := exitCode(res)
	attrs := []any{"chunkId", c.ID, "exitCode", code, "durationMs", res.Duration.Milliseconds()}
	if res.OutputURL != "" {
		attrs = append(attrs, "outputUrl", res.OutputURL, "outputBytes", res.OutputBytes, "outputSha256", res.OutputSHA256)
	}
	if code != 0 {
		log.Error("chunk failed", append(attrs, "error", res.Message(), "errorKind", res.Kind())...)
	} else {
		log.Info("chunk done", attrs...)
	}
	return code
}

// exitCode is the process exit code that a chunk's result stands for.
func exitCode(r *worker.Result) int {
	switch {
	case r.OK():
		return 0
	case errors.Is(r.Err, worker.ErrTimeout), errors.Is(r.Err, worker.ErrIdle):
		return ExitTimeout
	case r.Started && r.Err == nil:
		return r.ExitCode // n, or 128+n for signal n
	}
	return 1 // it could not run, or its output could not be uploaded
}
