package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// Run runs the chunk that req names and, when an output location is set,
// uploads its outputFile after it exits 0. It never panics on bad input:
// every failure is reported in the Result. When ctx is done before the command
// ends, the command's process group is killed and Err wraps ErrCanceled,
// or ErrTimeout when ctx's cause is (or wraps) ErrTimeout; a command that
// stays idle for Config.ChunkIdleTimeout is killed alike, and Err wraps
// ErrIdle.
func (w *Worker) Run(ctx context.Context, req jobspec.Request) *Result {
	res, job := w.run(ctx, req)
	w.logResult(ctx, res, "jobPath", req.JobPath, "job", job, "chunk", req.ChunkIndex)
	return res
}

// run is Run without its log line; job is the job's id, "" when the spec
// was not read.
func (w *Worker) run(ctx context.Context, req jobspec.Request) (*Result, string) {
	if w.cfgErr != nil {
		return &Result{Err: w.cfgErr}, ""
	}
	if req.JobPath == "" {
		return &Result{Err: jobspec.ErrPayloadFields}, ""
	}
	loc := store.ParseLocation(req.JobPath) // read once: the allowlist, the source and the job's name take it
	if err := w.checkJobPath(loc); err != nil {
		return &Result{Err: err}, ""
	}
	spec, err := w.loadSpec(ctx, loc)
	if err != nil {
		return &Result{Err: whyStopped(ctx, err)}, ""
	}
	chunk, err := spec.Chunk(req.ChunkIndex)
	if err != nil {
		return &Result{Err: err}, spec.ID
	}
	return w.runChunk(ctx, spec, chunk, req.Attempt), spec.ID
}

// logResult writes the one line at info level that an invocation gets:
// "chunk finished", with what the command did and where its output went,
// or, at warning level, "chunk not run" and why.
func (w *Worker) logResult(ctx context.Context, res *Result, attrs ...any) {
	if !res.Started {
		w.log().WarnContext(ctx, "chunk not run", append(attrs, "error", res.Message(), "errorKind", string(res.Kind()))...)
		return
	}
	attrs = append(attrs, "exitCode", res.ExitCode, "durationMs", res.Duration.Milliseconds(), "renderer", res.Renderer,
		"stdoutBytes", res.StdoutBytes, "stderrBytes", res.StderrBytes, "error", res.Message())
	if res.OutputURL != "" {
		attrs = append(attrs, "outputUrl", res.OutputURL, "outputBytes", res.OutputBytes, "outputSha256", res.OutputSHA256)
	}
	w.log().InfoContext(ctx, "chunk finished", attrs...)
}

// RunChunk runs one chunk of a spec loaded with [Worker.LoadSpec], as
// [Worker.Run] does once it has found the chunk: a Cloud Run job's task
// runs several chunks of one spec this way. Unlike Run, it logs nothing
// at info level: the caller reports the outcome.
func (w *Worker) RunChunk(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk) *Result {
	return w.runChunk(ctx, spec, chunk, 0)
}

// runChunk is RunChunk for one attempt of the chunk (see
// [jobspec.Request.Attempt]), which names its output.
func (w *Worker) runChunk(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, attempt int) *Result {
	if w.cfgErr != nil {
		return &Result{Err: w.cfgErr}
	}
	argv, err := jobspec.SplitCommand(chunk.Command)
	if err != nil {
		return &Result{Err: fmt.Errorf("splitting command of chunk %d: %w", chunk.ID, err)}
	}
	if err := checkNUL(spec, chunk); err != nil {
		return &Result{Err: fault.With(KindSpec, err)}
	}
	out, err := w.outputFor(spec, chunk, attempt)
	if err != nil {
		return &Result{Err: fault.With(KindSpec, err)}
	}
	w.stale.Do(func() {
		if removed := workspace.RemoveStale(w.cfg.WorkspaceRoot); len(removed) > 0 {
			w.log().WarnContext(ctx, "removed workspaces left by a worker that was killed", "root", w.cfg.WorkspaceRoot, "workspaces", removed)
		}
	})
	dir, err := w.pool.Take(w.cfg.WorkspaceRoot, spec.ID, chunk.ID)
	if err != nil {
		return &Result{Err: fault.With(KindWorker, err)}
	}
	ws := transfer.NewPlacement(dir)
	var res *Result
	defer func() {
		reuse := res != nil && res.clean && !ws.Holds()
		if err := w.pool.Give(dir, reuse); err != nil {
			w.log().ErrorContext(ctx, "workspace left behind", "error", err)
		}
		if c := w.cache.c.Load(); c != nil { // after the removal: the cache counts links
			c.Release(ws)
		}
	}()
	res = w.runInWorkspace(ctx, spec, chunk, argv, ws)
	if out != nil && res.OK() {
		w.deliver(ctx, res, out, ws.Work)
	}
	return res
}

// runInWorkspace fetches the assets into dir and runs the command there,
// both within Config.ChunkTimeout.
func (w *Worker) runInWorkspace(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, argv []string, ws *transfer.Placement) *Result {
	if w.cfg.ChunkTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, w.cfg.ChunkTimeout,
			fmt.Errorf("%w after %v (%s)", ErrTimeout, w.cfg.ChunkTimeout, EnvChunkTimeout))
		defer cancel()
	}
	if spec.AssetsURL != "" {
		if err := w.fetchAssets(ctx, spec.AssetsURL, ws); err != nil {
			return &Result{Err: err}
		}
	}
	return w.execute(ctx, spec, chunk, argv, ws)
}

// checkNUL refuses, before anything runs, a job id or outputFile that
// holds a NUL byte: the chunk's environment carries both, and no
// environment variable (nor file name) can hold one.
func checkNUL(spec *jobspec.Spec, chunk *jobspec.Chunk) error {
	switch {
	case strings.ContainsRune(spec.ID, 0):
		return fmt.Errorf("job id %q holds a NUL byte, which no environment variable can", spec.ID)
	case strings.ContainsRune(chunk.OutputFile, 0):
		return fmt.Errorf("outputFile %q of chunk %d holds a NUL byte, which no file name can", chunk.OutputFile, chunk.ID)
	}
	return nil
}

// whyStopped wraps err, which happened before the command ran, with the
// reason ctx ended, if it did, so that callers can tell a timeout or a
// cancellation from a bad spec.
func whyStopped(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w: %w", fault.StopReason(ctx), err)
}

// LoadSpec reads and parses the job spec at location through the store.Source
// for its scheme, within Config.SpecTimeout and Config.SpecMaxBytes. A
// spec without id is named after its file name: "s3://b/job-42.json" is
// job "job-42".
func (w *Worker) LoadSpec(ctx context.Context, location string) (*jobspec.Spec, error) {
	return w.loadSpec(ctx, store.ParseLocation(location))
}

func (w *Worker) loadSpec(ctx context.Context, loc store.Location) (*jobspec.Spec, error) {
	location := loc.String()
	late := fmt.Errorf("it took longer than %v (%s)", w.cfg.SpecTimeout, EnvSpecTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, w.cfg.SpecTimeout, late)
	defer cancel()
	src, err := w.source(loc)
	if err != nil {
		return nil, err
	}
	failed := func(err error) error {
		if context.Cause(ctx) == late {
			if errors.Is(err, late) { // the body's read returns the cause itself
				err = context.DeadlineExceeded
			}
			return fmt.Errorf("reading job spec %s: %w: %w", location, late, msg.TrimLocation(err, location))
		}
		return fmt.Errorf("reading job spec %s: %w", location, msg.TrimLocation(err, location))
	}
	rc, err := src.Open(ctx, location)
	if err != nil {
		return nil, failed(err)
	}
	defer rc.Close()
	data, err := readAll(rc, w.cfg.SpecMaxBytes)
	if err != nil {
		return nil, failed(err)
	}
	spec, err := jobspec.Parse(data)
	if err != nil {
		return nil, fault.With(KindSpec, err)
	}
	if spec.ID == "" {
		spec.ID = loc.JobName()
	}
	return spec, nil
}

// source is the Source for loc's scheme.
func (w *Worker) source(loc store.Location) (store.Source, error) {
	src, ok := w.sources[loc.Scheme]
	if !ok {
		return nil, fmt.Errorf("reading %s: %w %q", loc, store.ErrNoSource, loc.Scheme)
	}
	return src, nil
}

// readAll reads at most limit bytes from r, failing with store.ErrTooLarge past it.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, plusOne(limit)))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", store.ErrTooLarge, limit)
	}
	return data, nil
}

// plusOne is n+1, or n when that would overflow: reading one byte past a
// limit tells whether the document is larger.
func plusOne(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}
