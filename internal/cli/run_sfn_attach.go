package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/helios-project/helios-scaffold/internal/report"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// stepFunctionsLocked shows a Step Functions execution's progress with
// p.mu held: the bar's count of chunks, or a line when its state changes.
func (p *progress) stepFunctionsLocked(e executionEvent) {
	if p.bar != nil && e.Chunks > 0 {
		if p.bar.GetMax() != int(e.Chunks) {
			p.bar.ChangeMax(int(e.Chunks))
		}
		p.bar.Set(int(e.Succeeded + e.Failed))
		p.bar.Describe(fmt.Sprintf("chunks: ok %d · failed %d · running %d · pending %d", e.Succeeded, e.Failed, e.Running, e.Pending))
		if e.State == "running" {
			return
		}
	}
	p.lineLocked("execution %s: %s (chunks: %d ok, %d failed, %d running, %d pending of %d)",
		e.Execution, strings.ReplaceAll(e.State, "_", " "), e.Succeeded, e.Failed, e.Running, e.Pending, e.Chunks)
}

// sfnMergeResult is the execution's output: the Merge step's answer.
type sfnMergeResult struct {
	Merge *struct {
		StatusCode int `json:"statusCode"`
		Body       struct {
			OutputURL    string `json:"outputUrl"`
			OutputBytes  *int64 `json:"outputBytes"`
			OutputSHA256 string `json:"outputSha256"`
			Message      string `json:"message"`
		} `json:"body"`
	} `json:"merge"`
}

// sfnEnd is how an execution ended, as --attach saw it: what it did,
// when, and what run downloaded.
type sfnEnd struct {
	rec     *recorder
	sum     *fanout.Summary
	start   time.Time
	wall    time.Duration
	fetched int64
}

// attachAndTell follows the execution arn to its end, then prints the
// summary and tells of the end (--report, --webhook) as a run does.
func (p *runPlan) attachAndTell(it *interrupts, st *stores, prog *progress, arn string, stdout, stderr io.Writer) error {
	lock, err := fanout.LockState(it.ctx, p.state, p.o.wait)
	switch {
	case err == nil:
	case errors.Is(err, fanout.ErrLocked):
		return usageError{err}
	case it.exitCode() != 0:
		return exitError{code: it.exitCode(), err: fmt.Errorf("interrupted: %w", err)} // while --wait waited
	default:
		return err
	}
	defer lock.Release()
	if n := lock.Killed(); n > 0 {
		prog.line("killed %d processes that a killed run on %s had left running", n, p.state)
	}
	began := time.Now()
	end := &sfnEnd{rec: newRecorder()}
	err = ran(p.attachStepFunctions(it, st, prog, arn, end, stdout))
	prog.finish()
	t := runTotals{sum: end.sum, fetched: end.fetched, wall: time.Since(began), start: began}
	if end.sum != nil {
		t.start, t.wall = end.start, end.wall
		prog.summary(stdout, t, p.priceNote())
	}
	p.ended(it.ctx, end.rec, t, err, it.exitCode(), stderr)
	return err
}

// attachStepFunctions follows the execution arn until it ends, showing
// its Map Run's counts; when it succeeded, it downloads the merged video
// into --out, proven against the SHA-256 the merge answered, and checks
// it as run checks its own merge. An interrupt ends the follow (130);
// the execution goes on, and --attach follows it again.
func (p *runPlan) attachStepFunctions(it *interrupts, st *stores, prog *progress, arn string, end *sfnEnd, stdout io.Writer) error {
	ctx := it.ctx
	client, region, err := p.sfnClient(ctx)
	if err != nil {
		return err
	}
	if m := sfnExecutionPattern.FindStringSubmatch(arn); m != nil {
		region = m[2]
	}
	console := sfnConsoleURL(region, arn)
	prog.execution(executionEvent{State: "attached", Execution: arn, ConsoleURL: console})
	var redrove *redrive
	if p.o.redrive {
		if redrove, err = p.redriveStepFunctions(ctx, client, prog, arn); err != nil {
			if ctx.Err() != nil {
				return exitError{code: it.exitCode(), err: fmt.Errorf("interrupted: %w", err)}
			}
			return err
		}
	}
	interrupted := func() error {
		return exitError{code: it.exitCode(), err: fmt.Errorf("interrupted: execution %s goes on; --attach %s follows it again (%s)", arn, arn, console)}
	}
	var last executionEvent
	failures := 0
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return interrupted()
			case <-time.After(sfnPoll):
			}
		}
		cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
		d, err := client.DescribeExecution(cctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		cancel()
		if ctx.Err() != nil {
			return interrupted()
		}
		switch _, notFound := errors.AsType[*types.ExecutionDoesNotExist](err); {
		case notFound:
			return usageError{fmt.Errorf("--attach %s: no such execution: %w", arn, err)}
		case err != nil:
			if failures++; failures >= sfnMaxPollFailures {
				return fmt.Errorf("following execution %s: %d calls in a row failed, the last: %w; it goes on: --attach follows it again", arn, failures, err)
			}
			continue
		}
		failures = 0
		if redrove.stale(d) {
			continue
		}
		e := p.mapRunCounts(ctx, client, arn)
		e.State, e.Execution = strings.ToLower(string(d.Status)), arn
		if e.Chunks == 0 {
			e.Chunks = int64(len(p.job.Spec.Chunks))
		}
		if e != last {
			prog.execution(e)
			last = e
		}
		switch d.Status {
		case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
			continue
		}
		// A redriven execution's time, and its webhook's delivery, are its
		// last attempt's.
		end.start = aws.ToTime(d.StartDate)
		if r := aws.ToTime(d.RedriveDate); r.After(end.start) {
			end.start = r
		}
		end.wall = aws.ToTime(d.StopDate).Sub(end.start)
		end.sum = p.sfnOutcome(ctx, client, st.sources()["s3"], arn, aws.ToString(d.Output), end.rec)
		switch d.Status {
		case types.ExecutionStatusSucceeded:
			fetched, err := p.collectStepFunctions(ctx, st, prog, aws.ToString(d.Output))
			end.fetched = fetched
			if ctx.Err() != nil {
				return interrupted()
			}
			if err == nil {
				removeAttachment(p.attachPath(), arn)
				fmt.Fprintf(stdout, "execution %s succeeded: the merged video is %s\n", arn, p.mergedFile())
			}
			return err
		default:
			return fmt.Errorf("execution %s %s: %s: %s\nsee %s; the same command with --redrive tries its failed chunks (or the failed merge) "+
				"again, for 14 days", arn, lowerStatus(d.Status),
				orDefault(aws.ToString(d.Error), "no error"), orDefault(aws.ToString(d.Cause), "no cause"), console)
		}
	}
}

// mapRunCounts are the item counts of the execution's Map Runs; zero
// where there is none (an INLINE Map, or before the Map starts) or the
// calls fail: they only show progress.
func (p *runPlan) mapRunCounts(ctx context.Context, client *sfn.Client, arn string) executionEvent {
	var e executionEvent
	cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
	defer cancel()
	runs, err := client.ListMapRuns(cctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(arn)})
	if err != nil || len(runs.MapRuns) == 0 {
		return p.iterationCounts(cctx, client, arn)
	}
	for _, r := range runs.MapRuns {
		d, err := client.DescribeMapRun(cctx, &sfn.DescribeMapRunInput{MapRunArn: r.MapRunArn})
		if err != nil || d.ItemCounts == nil {
			continue
		}
		c := d.ItemCounts
		e.Pending += c.Pending
		e.Running += c.Running
		e.Succeeded += c.Succeeded
		e.Failed += c.Failed + c.TimedOut + c.Aborted
		e.Chunks += c.Total
	}
	return e
}

// collectStepFunctions downloads the merged video that the execution's
// output names into --out, proven against its size and SHA-256, and
// checks it with ffprobe.
func (p *runPlan) collectStepFunctions(ctx context.Context, st *stores, prog *progress, output string) (int64, error) {
	var res sfnMergeResult
	if err := json.Unmarshal([]byte(output), &res); err != nil || res.Merge == nil {
		return 0, fmt.Errorf("the execution succeeded, but its output has no merge result (%v): %.500s", err, output)
	}
	m := res.Merge.Body
	if res.Merge.StatusCode != 200 || m.OutputURL == "" || m.OutputBytes == nil || m.OutputSHA256 == "" {
		return 0, fmt.Errorf("the execution succeeded, but the merge answered status %d without a proven video (%s): %.500s",
			res.Merge.StatusCode, orDefault(m.Message, "no message"), output)
	}
	name := p.job.MergedName()
	if name == "" {
		name = m.OutputURL[strings.LastIndex(m.OutputURL, "/")+1:]
	}
	b, err := st.bucket(m.OutputURL)
	if err != nil {
		return 0, err
	}
	out := fanout.Output{Chunk: -1, URL: m.OutputURL, File: name, Bytes: *m.OutputBytes, SHA256: m.OutputSHA256}
	prog.line("collecting the merged video %s into %s", m.OutputURL, p.out)
	fanout.RemoveTemps(p.out, []fanout.Output{out}) // a killed collect's
	stats, err := fanout.Collect(ctx, b, []fanout.Output{out}, p.out, 1)
	if err != nil {
		return 0, fmt.Errorf("collecting the merged video: %w", err)
	}
	switch {
	case len(stats.Missing) > 0:
		return 0, fmt.Errorf("%w: the merged video %s is not there", fanout.ErrMissing, m.OutputURL)
	case len(stats.Bad) > 0:
		return 0, fmt.Errorf("%w: the merged video %s: %s", fanout.ErrMissing, m.OutputURL, stats.Bad[0].Why)
	}
	prog.line("collected %s, %s downloaded", name, sizeOf(stats.Bytes))
	return stats.Bytes, p.verifyMerged(ctx, prog)
}

// iterationCounts are the counts of an INLINE Map's iterations, from the
// execution's history (readHistory; a definition without a Map Run);
// zero when the history cannot be read.
func (p *runPlan) iterationCounts(ctx context.Context, client *sfn.Client, arn string) executionEvent {
	h := readHistory(ctx, client, arn)
	if h.failed || len(h.iterations) == 0 {
		return executionEvent{}
	}
	e := executionEvent{Chunks: int64(len(p.job.Spec.Chunks))}
	for _, a := range h.iterations {
		switch a.Outcome {
		case report.OutcomeOK:
			e.Succeeded++
		case report.OutcomeFailed, report.OutcomeKilled:
			e.Failed++
		default:
			e.Running++
		}
	}
	e.Pending = max(0, e.Chunks-int64(len(h.iterations)))
	return e
}
