package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/tail"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
)

// execute runs argv in the workspace, under the idle watch (idle.go), and
// gathers the Result.
func (w *Worker) execute(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, argv []string, ws *transfer.Placement) *Result {
	if res := w.executeWarm(ctx, spec, chunk, argv, ws); res != nil {
		return res
	}
	stdout := tail.New(w.cfg.OutputLimit)
	stderr := tail.New(w.cfg.OutputLimit)
	ps := proc.Spec{Dir: ws.Work, Env: w.chunkEnv(spec, chunk, ws), Stdout: stdout, Stderr: stderr, Mark: envWorkspace + "=" + ws.Work}
	ps.Argv = append([]string{LookPathEnv(argv[0], w.env)}, argv[1:]...)
	liveOut := tail.NewLines(w.logMu, w.stdout)
	liveErr := tail.NewLines(w.logMu, w.stderr)
	if w.cfg.Passthrough {
		ps.Stdout = io.MultiWriter(stdout, liveOut)
		ps.Stderr = io.MultiWriter(stderr, liveErr)
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	endWatch := w.watchIdle(ctx, stop, chunk.ID, ws.Base, &ps)
	w.log().DebugContext(ctx, "chunk started", "job", spec.ID, "chunk", chunk.ID, "command", argv[0], "workspace", ws.Work)
	start := time.Now()
	pr := proc.Run(ctx, ps)
	// The watch ends before ctx is read: an exit is not taken for idleness.
	endWatch()
	liveOut.Close() // the copiers are done: end unfinished last lines
	liveErr.Close()
	res := &Result{
		Started:         pr.Err == nil,
		ExitCode:        pr.ExitCode,
		Stdout:          stdout.Bytes(),
		Stderr:          stderr.Bytes(),
		StdoutTruncated: stdout.Truncated(),
		StderrTruncated: stderr.Truncated(),
		StdoutBytes:     stdout.Total(),
		StderrBytes:     stderr.Total(),
		Duration:        time.Since(start),
		Renderer:        RendererProcess,
		clean:           pr.Clean,
	}
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
