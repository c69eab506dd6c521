package fanout

import (
	"context"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
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
func (l Local) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	return CallResultOf(l.Worker.Run(ctx, req)), nil
}

// CallResultOf is the answer that a deployed worker gives for r: its
// status ([worker.Result.Status], as both platforms give it), exit code,
// streams, upload and, for a failure, its message and kind.
func CallResultOf(r *worker.Result) *worker.CallResult {
	c := &worker.CallResult{StatusCode: r.Status(), Stdout: string(r.Stdout), Stderr: string(r.Stderr),
		OutputURL: r.OutputURL, OutputBytes: r.OutputBytes, OutputSHA256: r.OutputSHA256}
	if r.Started {
		c.HasExitCode, c.ExitCode = true, r.ExitCode
	}
	if !r.OK() {
		c.Message, c.ErrorKind = r.Message(), string(r.Kind())
	}
	return c
}
