package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// errChunksFailed is a run in which a chunk failed for good.
var errChunksFailed = errors.New("chunks failed")

// runJob is the run command: plan, then (unless --dry-run) dispatch,
// prove and collect, and merge.
func runJob(cmd *cobra.Command, jobArg string, o *runOptions) error {
	start := time.Now()
	st := &stores{}
	p, err := newRunPlan(cmd.Context(), jobArg, o, st.sources())
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, w := range p.job.Warnings {
		fmt.Fprintf(stderr, "helios-scaffold: warning: %s\n", w)
	}
	if o.dryRun {
		p.print(stdout)
		return nil
	}
	it := watchInterrupts(cmd.Context())
	defer it.stop()
	if path, ok := nodeBinPath(p.specDir); ok && p.target == targetLocal {
		p.env = append(p.env, path)
	}
	if o.collectOnly {
		err := ran(p.collectOnly(it, st, stdout, stderr))
		p.ended(it.ctx, newRecorder(), runTotals{wall: time.Since(start), start: start}, err, it.exitCode(), stderr)
		return err
	}
	if p.target == targetCloudRunJob {
		return p.runCloudRunJob(it, st, stdout, stderr, start)
	}
	if p.target == targetAWS && (o.detach || o.attach != "") {
		return p.runStepFunctions(it, st, stdout, stderr)
	}
	for _, dir := range []struct{ flag, path string }{{"--out", p.out}, {"--logs", p.logs}} {
		if err := os.MkdirAll(dir.path, 0o755); err != nil {
			return usageError{fmt.Errorf("creating %s %s: %w", dir.flag, dir.path, err)}
		}
	}
	state, err := p.openState(it.ctx, stderr)
	if code := it.exitCode(); err != nil && code != 0 {
		return exitError{code: code, err: fmt.Errorf("interrupted: %w", err)} // while --wait waited
	}
	if err != nil {
		return err
	}
	defer state.Close()
	prog := newProgress(o.progress, stdout, stderr, len(p.job.Spec.Chunks))
	it.onDrain(func() {
		prog.line("stopping: no chunk starts now; waiting for the %d in flight (Ctrl-C again stops them)", prog.inFlight())
	})
	if p.ffprobe == nil && !o.noVerify {
		prog.line("ffprobe is not on PATH: the outputs are proven by size and SHA-256 only, not checked as video (install ffmpeg, or pass --no-verify)")
	}
	fanout.RemoveTemps(p.out, fanout.Expected(p.job, ""))
	rec := newRecorder()
	sum, fetched, uploaded, err := p.dispatch(it, st, state, prog, rec)
	prog.finish()
	t := runTotals{sum: sum, uploaded: uploaded, fetched: fetched, wall: time.Since(start), start: start}
	if sum != nil {
		prog.summary(stdout, t, p.priceNote())
	}
	err = ran(p.finish(it, sum, err, prog, stdout, stderr))
	p.ended(it.ctx, rec, t, err, it.exitCode(), stderr)
	return err
}

// ran makes err, which comes after something was called, exit 1 (or
// its own code), never 2: the input was good enough to start.
func ran(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[exitError](err); ok || errors.Is(err, errUsage) {
		return err // its own code, or input found bad before a call
	}
	return exitError{code: exitFailure, err: err}
}

// openState opens and locks the state file, bound to the spec and the
// project files, and says what it found: a killed run's leftovers, an
// earlier run's records dropped.
func (p *runPlan) openState(ctx context.Context, stderr io.Writer) (*fanout.State, error) {
	if p.inputs == nil {
		inputs, err := fanout.HashInputs(ctx, p.files)
		if err != nil {
			return nil, usageError{err}
		}
		p.inputs = inputs
	}
	state, err := fanout.OpenState(ctx, p.state, p.job, fanout.StateOptions{Inputs: p.inputs, Wait: p.o.wait})
	switch {
	case errors.Is(err, fanout.ErrStateMismatch), errors.Is(err, fanout.ErrStateCorrupt),
		errors.Is(err, fanout.ErrNotStateFile), errors.Is(err, fanout.ErrLocked):
		return nil, usageError{err}
	case err != nil:
		return nil, err
	}
	p.env = append(p.env, state.Env()) // marks the local chunks and the merge
	if n := state.Killed(); n > 0 {
		fmt.Fprintf(stderr, "killed %d processes that a killed run on %s had left running\n", n, p.state)
	}
	if state.Restarted != "" {
		fmt.Fprintf(stderr, "rendering every chunk again: %s\n", state.Restarted)
	}
	return state, nil
}

// finish merges when every output is proven in --out, and says how the
// run ended.
func (p *runPlan) finish(it *interrupts, sum *fanout.Summary, err error, prog *progress, stdout, stderr io.Writer) error {
	if code := it.exitCode(); code != 0 {
		if sum == nil {
			return exitError{code: code, err: fmt.Errorf("interrupted before any chunk ran: %w", err)}
		}
		return exitError{code: code, err: fmt.Errorf("interrupted: %d of %d chunks done; the same command goes on from there (state in %s)",
			sum.OK+sum.Skipped, sum.Chunks, p.state)}
	}
	if err != nil {
		return err
	}
	if sum.OverBudget > 0 {
		return p.overBudget(sum)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%w: %d of %d chunks failed; the same command tries them again (state in %s, their output in %s)",
			errChunksFailed, sum.Failed, sum.Chunks, p.state, p.logs)
	}
	if p.o.noMerge || p.job.Spec.MergeCommand == "" {
		return nil
	}
	return p.merge(it.ctx, prog, stdout, stderr)
}

// merge runs the spec's mergeCommand in --out.
func (p *runPlan) merge(ctx context.Context, prog *progress, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "merging in %s: %s\n", p.out, p.job.Spec.MergeCommand)
	prog.merge(nil)
	code, err := fanout.Merge(ctx, p.job.Spec, p.out, p.env, stdout, stderr)
	if err != nil {
		return err
	}
	prog.merge(&code)
	if code != 0 {
		return fmt.Errorf("mergeCommand exited with code %d", code)
	}
	return p.verifyMerged(ctx, prog)
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
	target, client, err := p.remoteTarget(ctx)
	if err != nil {
		return nil, "", 0, nothing, err
	}
	if err := p.preflight(ctx, client, prog); err != nil {
		return nil, "", 0, nothing, err
	}
	if p.upload == "" {
		return target, p.job.Location, 0, nothing, nil
	}
	jobPath, sent, err := p.uploadJob(ctx, st, prog)
	return target, jobPath, sent, nothing, err
}

// localJob stages the job for the worker core in this process, with the
// worker's chunk timeouts from the environment, as a deployed worker
// takes them.
func (p *runPlan) localJob(st *stores) (*fanout.LocalJob, error) {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = p.workspaceRoot()
	for _, e := range []struct {
		name string
		d    *time.Duration
	}{{worker.EnvChunkTimeout, &cfg.ChunkTimeout}, {worker.EnvChunkIdleTimeout, &cfg.ChunkIdleTimeout}} {
		name, d := e.name, e.d
		if v := os.Getenv(name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t < 0 {
				return nil, usageError{fmt.Errorf("%s=%q: want 0 (none) or a duration such as 90s or 15m", name, v)}
			}
			*d = t
		}
	}
	st.init()
	return fanout.NewLocal(p.job, fanout.LocalSetup{Config: cfg, Out: p.out, Files: p.files, Options: []worker.Option{
		worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)),
		worker.WithSource("s3", st.s3), worker.WithSource("gs", st.gs), worker.WithEnv(p.env...),
	}})
}

// nodeBinPath is a PATH entry with node_modules/.bin of dir and of each
// folder above it before this process's PATH, nearest first, as npm run
// makes: a spec that helios render --emit-job wrote runs "helios", which
// the project installs there. It reports false when there is none.
func nodeBinPath(dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	var bins []string
	for d := dir; ; d = filepath.Dir(d) {
		bin := filepath.Join(d, "node_modules", ".bin")
		if info, err := os.Stat(bin); err == nil && info.IsDir() {
			bins = append(bins, bin)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(bins) == 0 {
		return "", false
	}
	return "PATH=" + strings.Join(append(bins, os.Getenv("PATH")), string(os.PathListSeparator)), true
}

// exitError ends the command with code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
