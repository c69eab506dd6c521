package worker

import (
	"context"
	"io"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/tail"
)

// chunkStreams are a running chunk's stdout and stderr as the worker
// takes them, whether the chunk runs as a process or in the warm
// renderer: a tail of each for the answer, copied live to the logs with
// Config.Passthrough, and counted by the idle watch.
type chunkStreams struct {
	stdout, stderr   *tail.Buffer
	liveOut, liveErr *tail.Lines
	endWatch         func()
}

// streams sets ps's Stdout and Stderr to the chunk's streams and starts
// the idle watch of the chunk in the workspace dir (watchIdle), which
// calls stop when the chunk is idle.
func (w *Worker) streams(ctx context.Context, stop context.CancelCauseFunc, chunkID int64, dir string, ps *proc.Spec) *chunkStreams {
	s := &chunkStreams{stdout: tail.New(w.cfg.OutputLimit), stderr: tail.New(w.cfg.OutputLimit),
		liveOut: tail.NewLines(w.logMu, w.stdout), liveErr: tail.NewLines(w.logMu, w.stderr)}
	ps.Stdout, ps.Stderr = s.stdout, s.stderr
	if w.cfg.Passthrough {
		ps.Stdout, ps.Stderr = io.MultiWriter(s.stdout, s.liveOut), io.MultiWriter(s.stderr, s.liveErr)
	}
	s.endWatch = w.watchIdle(ctx, stop, chunkID, dir, ps)
	return s
}

// end ends the idle watch, before ctx is read (an exit is not taken for
// idleness), and the live lines, once the writers are done with.
func (s *chunkStreams) end() {
	s.endWatch()
	s.liveOut.Close()
	s.liveErr.Close()
}

// result is the Result of a chunk that started at start and ran with
// renderer, with its output.
func (s *chunkStreams) result(start time.Time, renderer string) *Result {
	return &Result{
		Started:         true,
		Stdout:          s.stdout.Bytes(),
		Stderr:          s.stderr.Bytes(),
		StdoutTruncated: s.stdout.Truncated(),
		StderrTruncated: s.stderr.Truncated(),
		StdoutBytes:     s.stdout.Total(),
		StderrBytes:     s.stderr.Total(),
		Duration:        time.Since(start),
		Renderer:        renderer,
	}
}
