package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// renderRounds is how many times a run renders a chunk whose output did
// not hold up before it gives up on it.
const renderRounds = 2

// dispatch renders what is not done, with proven outputs: a chunk the
// state says is done but whose output is not there as its worker put it
// is rendered again, and so is one whose output fails its proof after
// this run rendered it (collect for remote targets, a check of --out for
// local ones), up to renderRounds times. It returns the summary (nil
// when nothing was dispatched), the bytes downloaded and uploaded.
func (p *runPlan) dispatch(it *interrupts, st *stores, state *fanout.State, prog *progress, rec *recorder) (*fanout.Summary, int64, int64, error) {
	target, jobPath, uploaded, cleanup, err := p.prepare(it.ctx, st, prog)
	if err != nil {
		return nil, 0, uploaded, err
	}
	defer cleanup()
	if err := p.forgetUnproven(it.ctx, st, state, prog); err != nil {
		return nil, 0, uploaded, err
	}
	skipped := map[int64]bool{}
	for id := range state.Records() {
		skipped[id] = true
	}
	runner := &fanout.Runner{Target: target, JobPath: jobPath, Concurrency: p.conc, Retries: p.o.retries,
		RetryFailed: p.o.retryFailed, Backoff: fanout.DefaultBackoff, State: state, Drain: it.drain,
		ChunkTimeout: p.timeout, NeedOutputs: true, Logs: p.logs, Cost: p.attemptCost(), Budget: p.o.budget, Capacity: p.capacity,
		Events: func(e fanout.Event) { rec.event(e); prog.event(e) }}
	if !p.o.noHedge {
		h := p.o.hedge
		runner.Hedge = &h
	}
	it.setSoft(true)
	sum, err := runner.Run(it.ctx, p.job)
	it.setSoft(false)
	var fetched int64
	for round := 1; err == nil && sum.Done() && it.exitCode() == 0; round++ {
		var bad []fanout.BadOutput
		var n int64
		bad, n, err = p.prove(it.ctx, st, state, prog)
		fetched += n
		if err == nil && len(bad) == 0 {
			bad, err = p.verify(it.ctx, fanout.Outputs(p.job, state), prog)
		}
		if err != nil || len(bad) == 0 {
			break
		}
		if round == renderRounds {
			return sum, fetched, uploaded, unprovenError(bad, round)
		}
		err = p.renderAgain(it, runner, state, prog, sum, skipped, bad)
	}
	return sum, fetched, uploaded, err
}

// renderAgain forgets the chunks of bad and renders them once more,
// counting them in sum as rendered by this run, not done before
// (skipped).
func (p *runPlan) renderAgain(it *interrupts, runner *fanout.Runner, state *fanout.State, prog *progress,
	sum *fanout.Summary, skipped map[int64]bool, bad []fanout.BadOutput) error {
	var ids []int64
	for _, b := range bad {
		p.redo(state, prog, b)
		ids = append(ids, b.Chunk)
		if skipped[b.Chunk] {
			sum.Skipped--
		} else {
			sum.OK--
		}
		delete(skipped, b.Chunk)
	}
	it.setSoft(true)
	defer it.setSoft(false)
	more, err := runner.Run(it.ctx, p.job.Only(ids))
	sum.Add(more)
	return err
}

// forgetUnproven makes the chunks that the state says are done, but
// whose outputs are not there as their workers put them, count as not
// done: in --out for a local run, in their buckets (by size) for a
// remote one.
func (p *runPlan) forgetUnproven(ctx context.Context, st *stores, state *fanout.State, prog *progress) error {
	outs := fanout.Outputs(p.job, state)
	if len(outs) == 0 {
		return nil
	}
	var bad []fanout.BadOutput
	var err error
	if p.target == targetLocal {
		bad, err = fanout.ProveLocal(ctx, outs, p.out)
	} else {
		var b fanout.Bucket
		if b, err = st.bucket(outs[0].URL); err == nil {
			bad, err = fanout.ProveListed(ctx, b, outs)
		}
	}
	for _, b := range bad {
		p.redo(state, prog, b)
	}
	return err
}

// redo forgets b's chunk and says why it is rendered again.
func (p *runPlan) redo(state *fanout.State, prog *progress, b fanout.BadOutput) {
	state.Forget(b.Chunk)
	prog.redo(b)
}

// prove checks every done chunk's output: downloaded into --out and
// checked for a remote run, checked in --out for a local one. It returns
// those that do not hold up and the bytes downloaded.
func (p *runPlan) prove(ctx context.Context, st *stores, state *fanout.State, prog *progress) ([]fanout.BadOutput, int64, error) {
	outs := fanout.Outputs(p.job, state)
	if p.target == targetLocal {
		bad, err := fanout.ProveLocal(ctx, outs, p.out)
		return bad, 0, err
	}
	return p.download(ctx, st, outs, prog)
}

// unprovenError names the chunks whose outputs did not hold up after
// rounds renders.
func unprovenError(bad []fanout.BadOutput, rounds int) error {
	var lines []string
	video := true
	for _, b := range bad {
		lines = append(lines, fmt.Sprintf("chunk %d: %s", b.Chunk, b.Why))
		video = video && b.Video
	}
	if video {
		return fmt.Errorf("%w: %d outputs after %d renders, so nothing was merged:\n%s\nthe chunks render them so each time: "+
			"their logs are beside the state file; --no-verify merges them anyway", errBadVideo, len(bad), rounds, strings.Join(lines, "\n"))
	}
	return fmt.Errorf("%w after %d renders, so nothing was merged:\n%s\nsomething changes the outputs between the workers and here: "+
		"another run writing to the same outputUrl, or the store; the same command renders them again",
		fanout.ErrUnproven, rounds, strings.Join(lines, "\n"))
}
