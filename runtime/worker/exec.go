package worker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
)

// execute runs argv in the workspace, under the idle watch (idle.go), and
// gathers the Result.
func (w *Worker) execute(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, argv []string, ws *transfer.Placement) *Result {
	if res := w.executeWarm(ctx, spec, chunk, argv, ws); res != nil {
		return res
	}
	ps := proc.Spec{Dir: ws.Work, Env: w.chunkEnv(spec, chunk, ws), Mark: envWorkspace + "=" + ws.Work}
	ps.Argv = append([]string{LookPathEnv(argv[0], w.env)}, argv[1:]...)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	streams := w.streams(ctx, stop, chunk.ID, ws.Base, &ps)
	w.log().DebugContext(ctx, "chunk started", "job", spec.ID, "chunk", chunk.ID, "command", argv[0], "workspace", ws.Work)
	start := time.Now()
	pr := proc.Run(ctx, ps)
	streams.end() // the copiers are done: end unfinished last lines
	res := streams.result(start, RendererProcess)
	res.Started, res.ExitCode, res.clean = pr.Err == nil, pr.ExitCode, pr.Clean
	switch {
	case pr.Err != nil:
		res.Err = fault.With(startKind(pr.Err), fmt.Errorf("starting chunk %d command %q: %w", chunk.ID, argv[0], pr.Err))
	case ctx.Err() != nil:
		res.ExitCode = -1
		res.Err = fault.StopReason(ctx)
	case pr.Signal != 0:
		res.Signal = proc.SignalName(pr.Signal)
	}
	return res
}

// envWorkspace names the chunk's workspace in its environment, and so
// marks every process it starts (see sweep).
const envWorkspace = "HELIOS_WORKSPACE"

// chunkEnv is the worker's environment plus the HELIOS_* variables, and
// the workspace's temporary folder, which is removed with it: what the
// chunk and its children write there (a browser's profile, say) goes
// even when they are killed.
func (w *Worker) chunkEnv(spec *jobspec.Spec, chunk *jobspec.Chunk, ws *transfer.Placement) []string {
	return append(append(os.Environ(), w.env...),
		"TMPDIR="+ws.Tmp, "TMP="+ws.Tmp, "TEMP="+ws.Tmp,
		"HELIOS_JOB_ID="+spec.ID,
		"HELIOS_CHUNK_ID="+strconv.FormatInt(chunk.ID, 10),
		"HELIOS_START_FRAME="+strconv.FormatInt(chunk.StartFrame, 10),
		"HELIOS_FRAME_COUNT="+strconv.FormatInt(chunk.FrameCount, 10),
		"HELIOS_OUTPUT_FILE="+chunk.OutputFile,
		envWorkspace+"="+ws.Work,
		"PWD="+ws.Work, // exec sets PWD only when it builds the environment itself
	)
}
