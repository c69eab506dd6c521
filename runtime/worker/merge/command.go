package merge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/tail"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// envWorkspace names the workspace in the merge's environment, as in a
// chunk's: it marks every process the merge starts.
const envWorkspace = "HELIOS_WORKSPACE"

// killWait bounds the wait for the merge's processes to be gone once
// they are killed.
const killWait = 3 * time.Second

// command runs the spec's mergeCommand in the workspace with
// [fanout.Merge], as helios-scaffold run does, with the environment a
// chunk gets: the worker's, WithEnv's entries, TMPDIR in the workspace,
// HELIOS_JOB_ID, HELIOS_OUTPUT_FILE (the merged video) and
// HELIOS_WORKSPACE. Its output is passed through to the worker's logs and
// a tail of each stream kept. When ctx ends, every process that carries
// the workspace in its environment is killed at once (fanout.Merge alone
// would give the merge 10 s after SIGTERM, past the Lambda deadline), and
// so is what the merge left when it exits.
func (m *merger) command(ctx context.Context, ws *workspace.Workspace, name string) *Result {
	stdout, stderr := tail.New(m.cfg.OutputLimit), tail.New(m.cfg.OutputLimit)
	var out, errOut io.Writer = stdout, stderr
	if m.cfg.Passthrough {
		po, pe := m.w.Passthrough()
		lo, le := tail.NewLines(new(sync.Mutex), po), tail.NewLines(new(sync.Mutex), pe)
		defer lo.Close() // after fanout.Merge: its copiers are done
		defer le.Close()
		out, errOut = io.MultiWriter(stdout, lo), io.MultiWriter(stderr, le)
	}
	mark := envWorkspace + "=" + ws.Work
	env := append(m.w.Env(),
		"TMPDIR="+ws.Tmp, "TMP="+ws.Tmp, "TEMP="+ws.Tmp,
		"HELIOS_JOB_ID="+m.job.Spec.ID,
		"HELIOS_OUTPUT_FILE="+name,
		"HELIOS_FRAME_COUNT="+strconv.FormatInt(m.job.TotalFrames(), 10),
		mark,
		"PWD="+ws.Work,
	)
	kill := context.AfterFunc(ctx, func() { procfs.Kill(mark, killWait) })
	start := time.Now()
	code, err := fanout.Merge(ctx, m.job.Spec, ws.Work, env, out, errOut)
	elapsed := time.Since(start)
	kill()
	procfs.Kill(mark, killWait) // what left the merge's group, or outlived the kill
	res := &Result{Result: worker.Result{
		Started:         err == nil,
		ExitCode:        code,
		Stdout:          stdout.Bytes(),
		Stderr:          stderr.Bytes(),
		StdoutTruncated: stdout.Truncated(),
		StderrTruncated: stderr.Truncated(),
		StdoutBytes:     stdout.Total(),
		StderrBytes:     stderr.Total(),
		Duration:        elapsed,
	}}
	switch {
	case ctx.Err() != nil:
		res.ExitCode, res.Err = -1, fault.StopReason(ctx)
	case err != nil:
		res.Err = fault.With(worker.KindCommand, err)
	case code == -1:
		res.Err = fault.With(worker.KindFailed, errors.New("mergeCommand was killed by a signal"))
	case code != 0:
		res.Err = fault.With(worker.KindFailed, fmt.Errorf("mergeCommand exited with code %d", code))
	}
	return res
}
