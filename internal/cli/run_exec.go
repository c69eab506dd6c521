package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// errChunksFailed is a run in which a chunk failed for good.
var errChunksFailed = errors.New("chunks failed")

// runJob is the run command: plan, then (unless --dry-run) dispatch,
// collect and merge.
func runJob(cmd *cobra.Command, jobArg string, o *runOptions) error {
	start := time.Now()
	st := &stores{}
	p, err := newRunPlan(cmd.Context(), jobArg, o, st.sources())
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.dryRun {
		p.print(stdout)
		return nil
	}
	it := watchInterrupts(cmd.Context())
	defer it.stop()
	if o.collectOnly {
		return p.collectOnly(it, st, stdout, stderr)
	}
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		return fmt.Errorf("creating --out %s: %w", p.out, err)
	}
	state, err := fanout.OpenState(p.state, p.job.Hash, p.job.Location)
	if errors.Is(err, fanout.ErrStateMismatch) || errors.Is(err, fanout.ErrStateCorrupt) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	defer state.Close()
	prog := newProgress(o.progress, stdout, stderr, len(p.job.Spec.Chunks))
	target, jobPath, uploaded, cleanup, err := p.prepare(it.ctx, st, prog)
	if err != nil {
		return err
	}
	defer cleanup()
	runner := &fanout.Runner{Target: target, JobPath: jobPath, Concurrency: p.conc, Retries: o.retries,
		RetryFailed: o.retryFailed, Backoff: fanout.DefaultBackoff, State: state, Events: prog.event, Drain: it.drain}
	it.setSoft(true)
	sum, err := runner.Run(it.ctx, p.job)
	it.setSoft(false)
	prog.finish()
	totals := runTotals{sum: sum, uploaded: uploaded}
	if err == nil && sum.Done() {
		totals.fetched, err = p.collect(it.ctx, st, state, prog)
	}
	totals.wall = time.Since(start)
	prog.summary(stdout, totals)
	return p.finish(it, sum, err, stdout, stderr)
}

// finish merges when everything is in --out, and says how the run ended.
func (p *runPlan) finish(it *interrupts, sum *fanout.Summary, err error, stdout, stderr io.Writer) error {
	if code := it.exitCode(); code != 0 {
		return exitError{code: code, err: fmt.Errorf("interrupted: %d of %d chunks done; the same command goes on from there (state in %s)",
			sum.OK+sum.Skipped, sum.Chunks, p.state)}
	}
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%w: %d of %d chunks failed; the same command tries them again (state in %s)",
			errChunksFailed, sum.Failed, sum.Chunks, p.state)
	}
	if p.o.noMerge || p.job.Spec.MergeCommand == "" {
		return nil
	}
	return p.merge(it.ctx, stdout, stderr)
}

// merge runs the spec's mergeCommand in --out.
func (p *runPlan) merge(ctx context.Context, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "merging in %s: %s\n", p.out, p.job.Spec.MergeCommand)
	code, err := fanout.Merge(ctx, p.job.Spec, p.out, stdout, stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("mergeCommand exited with code %d", code)
	}
	return nil
}

// prepare makes the Target and the jobPath it is called with: for local
// chunks, the staged job; for remote ones, the uploaded spec (and
// project) or the remote JOB as it is. It returns the bytes uploaded and
// what to call when the run ends.
func (p *runPlan) prepare(ctx context.Context, st *stores, prog *progress) (fanout.Target, string, int64, func(), error) {
	nothing := func() {}
	if p.target == targetLocal {
		l, err := p.localJob(st)
		if err != nil {
			return nil, "", 0, nothing, err
		}
		return l.Target, l.JobPath, 0, func() { l.Close() }, nil
	}
	target, err := p.remoteTarget(ctx)
	if err != nil {
		return nil, "", 0, nothing, err
	}
	if p.upload == "" {
		return target, p.job.Location, 0, nothing, nil
	}
	jobPath, sent, err := p.uploadJob(ctx, st, prog)
	return target, jobPath, sent, nothing, err
}

// localJob stages the job for the worker core in this process.
func (p *runPlan) localJob(st *stores) (*fanout.LocalJob, error) {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = p.o.root
	if cfg.WorkspaceRoot == "" {
		cfg.WorkspaceRoot = filepath.Join(os.TempDir(), "helios-scaffold-run")
	}
	st.init()
	return fanout.NewLocal(p.job, fanout.LocalSetup{Config: cfg, Out: p.out, Files: p.files, Options: []worker.Option{
		worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)),
		worker.WithSource("s3", st.s3), worker.WithSource("gs", st.gs),
	}})
}

// exitError ends the command with code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
