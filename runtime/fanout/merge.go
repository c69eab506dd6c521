package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// ErrNoMerge is a spec without a mergeCommand.
var ErrNoMerge = errors.New("the job spec has no mergeCommand")

// mergeGrace is how long a merge may take to exit after SIGTERM when its
// context ends, before it is killed.
const mergeGrace = 10 * time.Second

// Merge runs the spec's mergeCommand in dir, split into argv as chunk
// commands are (no shell), with its output passed through to stdout and
// stderr, and returns its exit code. When ctx ends the merge gets SIGTERM,
// and SIGKILL 10 s later.
func Merge(ctx context.Context, spec *worker.JobSpec, dir string, stdout, stderr io.Writer) (int, error) {
	if spec.MergeCommand == "" {
		return 0, ErrNoMerge
	}
	argv, err := worker.SplitCommand(spec.MergeCommand)
	if err != nil {
		return 0, fmt.Errorf("splitting mergeCommand: %w", err)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = mergeGrace
	err = cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("running mergeCommand %s: %w", argv[0], err)
	}
	return 0, nil
}
