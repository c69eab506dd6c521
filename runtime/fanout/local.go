package fanout

import (
	"context"
	"errors"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Local is a [Target] that runs each chunk with the worker core in this
// process, as a deployed worker would: a fresh workspace below the
// worker's WorkspaceRoot, the assets of the spec's assetsUrl, the output
// put at its outputUrl (a file:// folder puts it on this machine).
type Local struct {
	Worker *worker.Worker
}

// Call implements [Target]; it answers with the status a deployed worker
// would give.
func (l Local) Call(ctx context.Context, req worker.Request) (*worker.CallResult, error) {
	return CallResultOf(l.Worker.Run(ctx, req)), nil
}

// CallResultOf is the answer that a deployed worker gives for r.
func CallResultOf(r *worker.Result) *worker.CallResult {
	c := &worker.CallResult{StatusCode: 200, Stdout: string(r.Stdout), Stderr: string(r.Stderr),
		OutputURL: r.OutputURL, OutputBytes: r.OutputBytes}
	if r.Started {
		c.HasExitCode, c.ExitCode = true, r.ExitCode
	}
	switch {
	case r.OK():
	case errors.Is(r.Err, worker.ErrJobPathNotAllowed):
		c.StatusCode, c.Message = 403, r.Message()
	default:
		c.StatusCode, c.Message = 500, r.Message()
	}
	return c
}
