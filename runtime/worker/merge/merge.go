package merge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// WorkspaceChunk is the chunk id in the name of a merge's workspace
// (helios-JOB--1-RANDOM), so that a worker that finds it left by a
// killed one removes it as it removes a chunk's.
const WorkspaceChunk = -1

// NoProbeWarning is Result.Warning when ffprobe is not on PATH.
const NoProbeWarning = "ffprobe is not on PATH: the chunks' outputs were proven by size and SHA-256 only, and neither they nor the merged video were checked as video"

// Result is the outcome of a merge: the Result of its mergeCommand (its
// exit code and output, and where the merged video was uploaded, its
// size and SHA-256), and what was checked.
type Result struct {
	worker.Result
	// Chunks is how many chunks' outputs were merged.
	Chunks int
	// Frames is how many frames ffprobe decoded from the merged video; 0
	// when it was not checked.
	Frames int64
	// Warning says what a merge could not check, NoProbeWarning.
	Warning string
}

// merger is one merge.
type merger struct {
	w    *worker.Worker
	cfg  worker.Config
	req  jobspec.MergeRequest
	job  *fanout.Job
	plan plan
}

// plan is what the merge takes and makes, decided before anything is
// downloaded.
type plan struct {
	name   string // the merged video, relative to the workspace
	target string // where it is uploaded
	sink   store.Sink
	bucket fanout.Bucket // where the outputs are
	outs   []fanout.Output
	bytes  int64 // the outputs' total
}

// Run merges the chunks' outputs of the job that req names, as
// helios-scaffold run does after its fan-out: it checks jobPath against
// the worker's HELIOS_ALLOWED_JOB_PATHS and loads the spec; finds each
// chunk's output in req (its outputs, or the Map Run's results at its
// resultsUrl, [ReadMapResults]), every chunk that has an outputFile
// needing one; downloads the spec's assets and the outputs into a fresh
// workspace, proving each against its worker's size and SHA-256
// ([fanout.Collect]); checks each as video with the ffprobe on PATH
// ([fanout.CheckVideos]); runs the spec's mergeCommand there
// ([fanout.Merge]); checks the merged video ([fanout.Job.MergedName])
// with ffprobe against the job's frames; and uploads it to the job's
// output location (the spec's outputUrl, else the worker's
// HELIOS_OUTPUT_URL), beside the outputs. The workspace is removed
// whatever happens. It never panics on bad input: every failure is in
// the Result, classified as the worker classifies a chunk's. When ctx
// ends, what runs is killed and Err wraps worker.ErrTimeout (when ctx's
// cause does) or worker.ErrCanceled.
func Run(ctx context.Context, w *worker.Worker, req jobspec.MergeRequest) *Result {
	start := time.Now()
	m := &merger{w: w, cfg: w.Config(), req: req}
	res := m.run(ctx)
	m.logResult(ctx, res, time.Since(start))
	return res
}

func (m *merger) run(ctx context.Context) *Result {
	if err := m.cfg.Validate(); err != nil {
		return failed(fault.With(worker.KindConfig, fmt.Errorf("invalid worker configuration: %w", err)))
	}
	if err := m.w.CheckJobPath(m.req.JobPath); err != nil {
		return failed(err)
	}
	spec, err := m.w.LoadSpec(ctx, m.req.JobPath)
	if err != nil {
		return failed(stopped(ctx, err))
	}
	m.job = &fanout.Job{Spec: spec, Location: m.req.JobPath}
	if err := m.prepare(ctx); err != nil {
		return failed(stopped(ctx, err))
	}
	return m.inWorkspace(ctx)
}

// prepare makes the plan: the merged video's name, where it goes, and
// every chunk's output, found in the request.
func (m *merger) prepare(ctx context.Context) error {
	spec := m.job.Spec
	if spec.MergeCommand == "" {
		return fault.With(worker.KindSpec, fanout.ErrNoMerge)
	}
	if _, err := jobspec.SplitCommand(spec.MergeCommand); err != nil {
		return fault.With(worker.KindCommand, fmt.Errorf("splitting mergeCommand: %w", err))
	}
	p := &m.plan
	if p.name = m.job.MergedName(); p.name == "" {
		return fault.With(worker.KindSpec, errors.New("the mergeCommand names no one video file that no chunk's command does: "+
			"which file is the merged video cannot be told"))
	}
	folder := cmp.Or(spec.OutputURL, m.cfg.OutputURL)
	if folder == "" {
		return fault.With(worker.KindSpec, fmt.Errorf("no output location: the job spec has no outputUrl and %s is not set, "+
			"so no chunk's output was put anywhere, and the merged video has nowhere to go", worker.EnvOutputURL))
	}
	src, err := m.w.Source(folder)
	if err != nil {
		return fmt.Errorf("output location: %w", err)
	}
	var ok bool
	if p.sink, ok = src.(store.Sink); !ok {
		return fault.With(worker.KindSpec, fmt.Errorf("output location %s: the store for %q cannot write", folder, store.Scheme(folder)))
	}
	if p.bucket, ok = bucketOf(src); !ok {
		return fault.With(worker.KindSpec, fmt.Errorf("output location %s: the store for %q cannot list a folder", folder, store.Scheme(folder)))
	}
	p.target = store.JoinLocation(folder, p.name)
	e, err := expect(spec, folder)
	if err != nil {
		return err
	}
	if m.req.ResultsURL == "" {
		p.outs, err = e.fromRequest(m.req.Outputs)
	} else {
		p.outs, err = m.fromResults(ctx, e)
	}
	for _, o := range p.outs {
		p.bytes += o.Bytes
	}
	return err
}

// fromResults reads the Map Run's results and finds the outputs there.
func (m *merger) fromResults(ctx context.Context, e *expected) ([]fanout.Output, error) {
	src, err := m.w.Source(m.req.ResultsURL)
	if err != nil {
		return nil, fmt.Errorf("resultsUrl: %w", err)
	}
	mr, err := ReadMapResults(ctx, src, m.req.ResultsURL)
	if errors.Is(err, ErrResults) {
		err = fault.With(worker.KindOutput, err)
	}
	if err != nil {
		return nil, err
	}
	return e.fromResults(mr)
}

// bucketOf is src as a [fanout.Bucket]: a bucket store, or a folder of
// this machine.
func bucketOf(src store.Source) (fanout.Bucket, bool) {
	if b, ok := src.(fanout.Bucket); ok {
		return b, true
	}
	if f, ok := src.(store.FileSource); ok {
		return fanout.Dir{FileSource: f}, true
	}
	return nil, false
}

// inWorkspace does the merge in a fresh workspace, and removes it.
func (m *merger) inWorkspace(ctx context.Context) *Result {
	root := m.cfg.WorkspaceRoot
	if removed := workspace.RemoveStale(root); len(removed) > 0 {
		m.w.Logger().WarnContext(ctx, "removed workspaces left by a worker that was killed", "root", root, "workspaces", removed)
	}
	ws, err := workspace.New(root, m.job.Spec.ID, WorkspaceChunk)
	if err != nil {
		return failed(fault.With(worker.KindWorker, err))
	}
	defer func() {
		if err := ws.Remove(); err != nil {
			m.w.Logger().ErrorContext(ctx, "workspace left behind", "error", err)
		}
	}()
	if err := m.gather(ctx, ws); err != nil {
		return failed(stopped(ctx, err))
	}
	var warning string
	prober, found := probe.Find()
	if found {
		if err := m.checkParts(ctx, prober, ws.Work); err != nil {
			return failed(stopped(ctx, err))
		}
	} else {
		warning = NoProbeWarning
		m.w.Logger().WarnContext(ctx, "merging unchecked outputs", "reason", warning)
	}
	res := m.command(ctx, ws, m.plan.name)
	res.Chunks, res.Warning = len(m.plan.outs), warning
	if res.Err != nil {
		return res
	}
	if found {
		if res.Frames, res.Err = m.checkMerged(ctx, prober, ws.Work); res.Err != nil {
			res.Err = stopped(ctx, res.Err)
			return res
		}
	}
	up := &transfer.Upload{Name: m.plan.name, Target: m.plan.target, Sink: m.plan.sink, Stall: m.cfg.UploadStallTimeout}
	n, sum, err := up.Put(ctx, ws.Work)
	if err != nil {
		res.Err = err
		return res
	}
	res.OutputURL, res.OutputBytes, res.OutputSHA256 = m.plan.target, n, sum
	return res
}

// gather places the assets and the outputs into the workspace, checking
// first that the outputs fit.
func (m *merger) gather(ctx context.Context, ws *workspace.Workspace) error {
	if free, ok := freeBytes(ws.Base); ok && free < m.plan.bytes {
		return fault.With(worker.KindWorker, fmt.Errorf("the chunks' outputs are %d bytes and %s has %d bytes free: "+
			"the outputs and the merged video must fit there (on Lambda, raise the function's ephemeral storage)", m.plan.bytes, m.cfg.WorkspaceRoot, free))
	}
	if url := m.job.Spec.AssetsURL; url != "" {
		if err := m.fetchAssets(ctx, url, ws); err != nil {
			return err
		}
	}
	// An asset of the merged video's name is not taken for the merged
	// video if the mergeCommand writes none.
	if err := os.RemoveAll(filepath.Join(ws.Work, filepath.FromSlash(m.plan.name))); err != nil {
		return fault.With(worker.KindWorker, err)
	}
	st, err := fanout.Collect(ctx, m.plan.bucket, m.plan.outs, ws.Work, m.cfg.AssetsConcurrency)
	if err != nil {
		return fmt.Errorf("collecting the chunks' outputs: %w", err)
	}
	bad := st.Bad
	for _, o := range st.Missing {
		bad = append(bad, fanout.BadOutput{Output: o, Why: o.URL + " is not there", Missing: true})
	}
	if len(bad) > 0 {
		return badOutputs(bad, len(m.plan.outs), "do not hold up")
	}
	return nil
}

// fetchAssets downloads the spec's assets folder into the workspace, as
// a chunk gets it (without the asset cache), within HELIOS_ASSETS_TIMEOUT.
func (m *merger) fetchAssets(ctx context.Context, url string, ws *workspace.Workspace) error {
	ctx, cancel := context.WithTimeoutCause(ctx, m.cfg.AssetsTimeout,
		fmt.Errorf("%w: assets took longer than %v (%s)", worker.ErrTimeout, m.cfg.AssetsTimeout, worker.EnvAssetsTimeout))
	defer cancel()
	src, err := m.w.Source(url)
	if err != nil {
		return fmt.Errorf("fetching assets: %w", err)
	}
	fsrc, ok := src.(store.FolderSource)
	if !ok {
		return fault.With(worker.KindSpec, fmt.Errorf("fetching assets %s: the source for %q cannot list a folder", url, store.Scheme(url)))
	}
	fetch := transfer.Fetch{Source: fsrc, MaxBytes: m.cfg.AssetsMaxBytes, Concurrency: m.cfg.AssetsConcurrency, Stall: m.cfg.AssetsStallTimeout}
	_, err = fetch.Folder(ctx, url, transfer.NewPlacement(ws))
	return stopped(ctx, err)
}

// checkParts checks the outputs in dir as video.
func (m *merger) checkParts(ctx context.Context, prober probe.Prober, dir string) error {
	bad, err := fanout.CheckVideos(ctx, prober, m.job, m.plan.outs, dir, runtime.NumCPU())
	if errors.Is(err, fanout.ErrFrameRate) {
		return fault.With(worker.KindOutput, err)
	}
	if err != nil {
		return fault.With(worker.KindWorker, err)
	}
	if len(bad) > 0 {
		return badOutputs(bad, len(m.plan.outs), "are not the video their chunks render")
	}
	return nil
}

// checkMerged checks the merged video in dir against the job's frames,
// and returns how many it holds.
func (m *merger) checkMerged(ctx context.Context, prober probe.Prober, dir string) (int64, error) {
	want := probe.Want{Frames: m.job.TotalFrames(), FPS: m.job.Spec.Metadata.FPS}
	if want.Frames <= 0 {
		return 0, nil
	}
	r, err := prober.Check(ctx, filepath.Join(dir, filepath.FromSlash(m.plan.name)), want)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fault.With(worker.KindOutput, fmt.Errorf("%w: the mergeCommand exited 0 without writing %s", worker.ErrOutputMissing, m.plan.name))
	case errors.Is(err, probe.ErrMismatch), errors.Is(err, probe.ErrNotVideo):
		return r.Frames, fault.With(worker.KindOutput, fmt.Errorf("the merged video %w; every chunk's output was proven, so the mergeCommand dropped or repeated frames", err))
	case err != nil:
		return 0, fault.With(worker.KindWorker, fmt.Errorf("checking the merged video %s: %w", m.plan.name, err))
	}
	return r.Frames, nil
}

// badOutputs is the failure of a merge that found bad outputs.
func badOutputs(bad []fanout.BadOutput, total int, what string) error {
	fails := make([]failure, len(bad))
	ids := make([]int64, len(bad))
	for i, b := range bad {
		fails[i], ids[i] = failure{chunk: b.Chunk, known: true, why: b.Why}, b.Chunk
	}
	return fault.With(worker.KindOutput, fmt.Errorf("%d of %d chunks' outputs %s (%s), so nothing was merged: %s",
		len(bad), total, what, chunkList(ids), listFailures(fails)))
}

// failed is the Result of a merge whose command did not run.
func failed(err error) *Result { return &Result{Result: worker.Result{Err: err}} }

// stopped wraps err with the reason ctx ended, if it did, so that a
// timeout or a cancellation is told from what it interrupted.
func stopped(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, worker.ErrTimeout) || errors.Is(err, worker.ErrCanceled) {
		return err
	}
	return fmt.Errorf("%w: %w", fault.StopReason(ctx), err)
}

// logResult writes the merge's one line at info level, or at warning
// level when its command did not run.
func (m *merger) logResult(ctx context.Context, res *Result, d time.Duration) {
	attrs := []any{"jobPath", m.req.JobPath, "chunks", res.Chunks, "durationMs", d.Milliseconds()}
	if !res.Started {
		m.w.Logger().WarnContext(ctx, "merge not run", append(attrs, "error", res.Message(), "errorKind", string(res.Kind()))...)
		return
	}
	attrs = append(attrs, "exitCode", res.ExitCode, "mergeMs", res.Duration.Milliseconds(), "frames", res.Frames, "error", res.Message())
	if res.OutputURL != "" {
		attrs = append(attrs, "outputUrl", res.OutputURL, "outputBytes", res.OutputBytes, "outputSha256", res.OutputSHA256)
	}
	m.w.Logger().InfoContext(ctx, "merge finished", attrs...)
}
