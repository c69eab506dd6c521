package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// uploadConcurrency is how many project files are uploaded at once.
const uploadConcurrency = 16

// uploadJob syncs the project folder to UPLOAD/assets and puts the spec,
// with its assetsUrl and outputUrl set to where the workers find them, at
// UPLOAD/jobs/RUN.json; it returns that location and the bytes sent.
func (p *runPlan) uploadJob(ctx context.Context, st *stores, prog *progress) (string, int64, error) {
	b, err := st.bucket(p.upload)
	if err != nil {
		return "", 0, err
	}
	var sent int64
	assets := ""
	if p.files != nil {
		assets = p.upload + "/assets"
		prog.line("uploading %s (%d files, %s) to %s; those already there are not sent again",
			p.files.Dir, len(p.files.Files), sizeOf(p.files.Bytes), assets)
		stats, err := fanout.Sync(ctx, b, p.files, assets, uploadConcurrency, nil)
		if err != nil {
			return "", 0, err
		}
		sent = stats.SentBytes
		prog.line("uploaded %d files, %s (%d were there already)", stats.Sent, sizeOf(stats.SentBytes), stats.Files-stats.Sent)
	}
	spec, err := p.job.WithLocations(assets, p.uploadedOutputURL())
	if err != nil {
		return "", 0, err
	}
	jobPath := p.upload + "/jobs/" + p.runID + ".json"
	put, err := fanout.PutIfChanged(ctx, b, jobPath, spec)
	if err != nil {
		return "", 0, fmt.Errorf("uploading the job spec to %s: %w", jobPath, err)
	}
	return jobPath, sent + put, nil
}

// download collects outs into --out, proven, and returns those that are
// missing or do not hold up, and the bytes downloaded.
func (p *runPlan) download(ctx context.Context, st *stores, outs []fanout.Output, prog *progress) ([]fanout.BadOutput, int64, error) {
	if len(outs) == 0 {
		return nil, 0, nil
	}
	b, err := st.bucket(outs[0].URL)
	if err != nil {
		return nil, 0, err
	}
	prog.line("collecting %d outputs into %s", len(outs), p.out)
	stats, err := fanout.Collect(ctx, b, outs, p.out, p.o.downloads)
	if err != nil {
		return nil, stats.Bytes, err
	}
	bad := stats.Bad
	for _, m := range stats.Missing {
		bad = append(bad, fanout.BadOutput{Output: m, Why: m.URL + " is not there", Missing: true})
	}
	if len(bad) == 0 {
		prog.line("collected %d outputs, %s downloaded (%d were in place)", len(outs), sizeOf(stats.Bytes), len(outs)-stats.Fetched)
	}
	return bad, stats.Bytes, nil
}

// collectOnly is --collect-only: the outputs that a Cloud Run job's tasks
// put under outputUrl, downloaded and merged.
func (p *runPlan) collectOnly(it *interrupts, st *stores, stdout, stderr io.Writer) error {
	folder := p.job.Spec.OutputURL
	if folder == "" {
		folder = p.o.outputURL
	}
	if folder == "" && p.answers != nil {
		folder = p.answers.Inputs.OutputURL // the tasks' HELIOS_OUTPUT_URL
	}
	if folder == "" {
		return usageError{errors.New("--collect-only needs the spec's outputUrl or --output-url (or a scaffolded project's --output-url): where the tasks put the outputs")}
	}
	outs := fanout.Expected(p.job, folder)
	fanout.RemoveTemps(p.out, outs)
	prog := newProgress("none", stdout, stderr, 0)
	bad, _, err := p.download(it.ctx, st, outs, prog)
	if err != nil {
		return err
	}
	if err := badOutputsError(bad, len(outs)); err != nil {
		return err
	}
	if bad, err = p.verify(it.ctx, outs, prog); err != nil {
		return err
	}
	if err := badVideosError(bad, len(outs)); err != nil {
		return err
	}
	if code := it.exitCode(); code != 0 {
		return exitError{code: code, err: errors.New("interrupted")}
	}
	if p.o.noMerge || p.job.Spec.MergeCommand == "" {
		return nil
	}
	return p.merge(it.ctx, prog, stdout, stderr)
}

// badVideosError names the outputs that are not the video their chunks
// render, of total collected; nil when there are none.
func badVideosError(bad []fanout.BadOutput, total int) error {
	if len(bad) == 0 {
		return nil
	}
	var lines []string
	for _, b := range bad {
		lines = append(lines, fmt.Sprintf("chunk %d: %s", b.Chunk, b.Why))
	}
	return fmt.Errorf("%w: %d of %d outputs, so nothing was merged:\n%s\nrun the job's tasks for those chunks again; --no-verify merges them anyway",
		errBadVideo, len(bad), total, strings.Join(lines, "\n"))
}

// badOutputsError says which outputs --collect-only could not prove:
// those that are not there, and those whose bytes do not match the
// store's checksum; nil when there are none.
func badOutputsError(bad []fanout.BadOutput, total int) error {
	var missing, wrong []int64
	var firstMissing, firstWrong string
	for _, b := range bad {
		if b.Missing {
			missing = append(missing, b.Chunk)
			firstMissing = cmp.Or(firstMissing, b.URL)
		} else {
			wrong = append(wrong, b.Chunk)
			firstWrong = cmp.Or(firstWrong, b.Why)
		}
	}
	var says []string
	if len(missing) > 0 {
		says = append(says, fmt.Sprintf("%d of %d outputs are not there: chunks %v (first: %s)", len(missing), total, missing, firstMissing))
	}
	if len(wrong) > 0 {
		says = append(says, fmt.Sprintf("%d of %d outputs do not match: chunks %v (first: %s)", len(wrong), total, wrong, firstWrong))
	}
	if len(says) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; nothing was merged", fanout.ErrMissing, strings.Join(says, "; "))
}
