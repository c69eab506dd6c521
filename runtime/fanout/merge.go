package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// ErrNoMerge is a spec without a mergeCommand.
var ErrNoMerge = errors.New("the job spec has no mergeCommand")

// mergeGrace is how long a merge may take to exit after SIGTERM when its
// context ends, before it is killed.
const mergeGrace = 10 * time.Second

// Merge runs the spec's mergeCommand in dir, split into argv as chunk
// commands are (no shell), with this process's environment and env over
// it (a PATH there is where the executable is looked up), its output
// passed through to stdout and stderr, and returns its exit code. The
// merge runs in a process group of its own, which is killed when Merge
// returns, whatever it left running; on Linux it is also killed if this
// process dies first. When ctx ends the group gets SIGTERM, and SIGKILL
// 10 s later.
func Merge(ctx context.Context, spec *jobspec.Spec, dir string, env []string, stdout, stderr io.Writer) (int, error) {
	if spec.MergeCommand == "" {
		return 0, ErrNoMerge
	}
	argv, err := jobspec.SplitCommand(spec.MergeCommand)
	if err != nil {
		return 0, fmt.Errorf("splitting mergeCommand: %w", err)
	}
	cmd := exec.CommandContext(ctx, worker.LookPathEnv(argv[0], env), argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = mergeGrace
	// The parent-death signal follows the thread that started the child:
	// keep this goroutine on it until the merge has ended.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("running mergeCommand %s: %w", argv[0], err)
	}
	err = cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what it left in its group
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("running mergeCommand %s: %w", argv[0], err)
	}
	return 0, nil
}
