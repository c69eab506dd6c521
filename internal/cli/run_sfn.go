package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// envStateMachineArn names the state machine that --target aws --detach
// starts, instead of the one named after the function.
const envStateMachineArn = "HELIOS_STATE_MACHINE_ARN"

// Following a Step Functions execution.
const (
	sfnPoll        = 2 * time.Second
	sfnCallTimeout = 30 * time.Second
	// sfnMaxPollFailures ends the follow after that many calls failed
	// in a row (a minute of them at sfnPoll): the execution goes on.
	sfnMaxPollFailures = 30
	// sfnNameMax is the longest name of an execution.
	sfnNameMax = 80
)

var (
	// sfnExecutionPattern is an execution's ARN: partition, region,
	// account, state machine, name.
	sfnExecutionPattern = regexp.MustCompile(`^arn:([a-z-]+):states:([a-z0-9-]+):([0-9]+):execution:([^:]+):([^:]+)$`)
	sfnNameChar         = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// sfnInput is an execution's input. chunkIds repeat the chunk list for
// a definition that maps over the input (an INLINE Map with ItemsPath
// $.chunkIds); the scaffolded DISTRIBUTED Map reads the list from S3
// and ignores them.
type sfnInput struct {
	JobPath string `json:"jobPath"`
	Chunks  struct {
		Bucket string `json:"bucket"`
		Key    string `json:"key"`
	} `json:"chunks"`
	ChunkIDs []int64 `json:"chunkIds"`
}

// runStepFunctions is run --target aws with --detach (start an execution
// of the state machine that init aws --orchestrator stepfunctions
// scaffolded, and leave it) or --attach ARN (follow one, then collect
// and check the merged video).
func (p *runPlan) runStepFunctions(it *interrupts, st *stores, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		return usageError{fmt.Errorf("creating --out %s: %w", p.out, err)}
	}
	prog := newProgress(p.o.progress, stdout, stderr, 0)
	defer prog.finish()
	if p.o.attach != "" {
		arn := p.o.attach
		if !sfnExecutionPattern.MatchString(arn) {
			return usageError{fmt.Errorf("--attach %s: want a Step Functions execution's ARN, arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME", arn)}
		}
		return ran(p.attachStepFunctions(it, st, prog, arn, stdout, stderr))
	}
	if p.upload == "" {
		return usageError{errors.New("--detach on --target aws needs a local JOB and --upload s3://BUCKET/PREFIX: the chunk list is written beside the uploaded spec")}
	}
	_, err := p.startStepFunctions(it.ctx, st, prog, stdout)
	if code := it.exitCode(); err != nil && code != 0 {
		return exitError{code: code, err: fmt.Errorf("interrupted: %w", err)}
	}
	return ran(err)
}

// sfnClient is a Step Functions client in the run's region, and that
// region.
func (p *runPlan) sfnClient(ctx context.Context) (*sfn.Client, string, error) {
	var opts []func(*config.LoadOptions) error
	if p.region != "" {
		opts = append(opts, config.WithRegion(p.region))
	}
	if m := sfnExecutionPattern.FindStringSubmatch(p.o.attach); m != nil && p.region == "" {
		opts = append(opts, config.WithRegion(m[2])) // where the execution runs
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return sfn.NewFromConfig(cfg), cfg.Region, nil
}

// sfnConsoleURL is the Step Functions console's page of an execution.
func sfnConsoleURL(region, arn string) string {
	return "https://" + region + ".console.aws.amazon.com/states/home?region=" + region + "#/v2/executions/details/" + arn
}

// startStepFunctions uploads the job as the aws target does, writes its
// chunk list beside the uploaded spec, starts an execution of the state
// machine, prints its ARN and console URL, and writes the attach file.
func (p *runPlan) startStepFunctions(ctx context.Context, st *stores, prog *progress, stdout io.Writer) (string, error) {
	client, region, err := p.sfnClient(ctx)
	if err != nil {
		return "", err
	}
	machine, err := p.stateMachine(ctx, client)
	if err != nil {
		return "", err
	}
	jobPath, _, err := p.uploadJob(ctx, st, prog)
	if err != nil {
		return "", err
	}
	ids := make([]int64, 0, len(p.job.Spec.Chunks))
	for _, c := range p.job.Spec.Chunks {
		ids = append(ids, c.ID)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return "", err
	}
	listPath := p.upload + "/jobs/" + p.runID + generator.ChunkListSuffix
	b, err := st.bucket(listPath)
	if err != nil {
		return "", err
	}
	if _, err := fanout.PutIfChanged(ctx, b, listPath, list); err != nil {
		return "", fmt.Errorf("writing the chunk list to %s: %w", listPath, err)
	}
	loc := store.ParseLocation(listPath)
	in := sfnInput{JobPath: jobPath, ChunkIDs: ids}
	in.Chunks.Bucket, in.Chunks.Key = loc.Bucket, loc.Key
	input, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	name := sfnNameChar.ReplaceAllString(p.runID, "-")
	suffix := fmt.Sprintf("-%d", time.Now().Unix())
	name = name[:min(len(name), sfnNameMax-len(suffix))] + suffix
	cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
	defer cancel()
	out, err := client.StartExecution(cctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(string(input))})
	if err != nil {
		return "", fmt.Errorf("starting an execution of %s: %w", machine, err)
	}
	arn := aws.ToString(out.ExecutionArn)
	if m := sfnExecutionPattern.FindStringSubmatch(arn); m != nil {
		region = m[2]
	}
	console := sfnConsoleURL(region, arn)
	att := attachment{Execution: arn, Job: machine, JobPath: jobPath, Outputs: p.uploadedOutputURL(), Out: p.out, Spec: p.job.Hash,
		Chunks: ids, Console: console, Started: aws.ToTime(out.StartDate)}
	if att.Outputs == "" {
		att.Outputs = strings.TrimRight(p.job.Spec.OutputURL, "/")
	}
	if err := writeAttachment(p.attachPath(), att); err != nil {
		prog.line("warning: %v", err)
	}
	prog.stepFunctions(sfnEvent{Status: "STARTED", Execution: arn, ConsoleURL: console, Total: int64(len(ids))})
	fmt.Fprintf(stdout, "started execution %s\n%s\nfollow it with: helios-scaffold run %s --target aws --function %s --attach %s\n",
		arn, console, p.job.Location, p.function, arn)
	return arn, nil
}

// stateMachine is the ARN of the state machine to start: $HELIOS_STATE_MACHINE_ARN,
// else the one init aws --orchestrator stepfunctions named after the function.
func (p *runPlan) stateMachine(ctx context.Context, client *sfn.Client) (string, error) {
	if arn := os.Getenv(envStateMachineArn); arn != "" {
		return arn, nil
	}
	fn := p.function
	if i := strings.LastIndex(fn, "function:"); i >= 0 {
		fn = fn[i+len("function:"):]
		fn, _, _ = strings.Cut(fn, ":") // a qualifier
	}
	want := generator.Inputs{Name: fn}.StateMachineName()
	pages := sfn.NewListStateMachinesPaginator(client, &sfn.ListStateMachinesInput{})
	for pages.HasMorePages() {
		cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return "", fmt.Errorf("listing the state machines to find %s: %w", want, err)
		}
		for _, m := range page.StateMachines {
			if aws.ToString(m.Name) == want {
				return aws.ToString(m.StateMachineArn), nil
			}
		}
	}
	return "", usageError{fmt.Errorf("no state machine %s in this region: deploy the stack of init aws --orchestrator stepfunctions, or set %s", want, envStateMachineArn)}
}

// sfnEvent is an execution's progress, as run --progress json prints it.
type sfnEvent struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"event"`  // "execution"
	Status     string    `json:"status"` // STARTED, ATTACHED, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Execution  string    `json:"execution"`
	ConsoleURL string    `json:"consoleUrl,omitempty"`
	Pending    int64     `json:"pending"`
	Running    int64     `json:"running"`
	Succeeded  int64     `json:"succeeded"`
	Failed     int64     `json:"failed"`
	Total      int64     `json:"total"`
}

// stepFunctions shows an execution's progress: a JSON line, the bar's
// count of chunks, or a line when its status changes.
func (p *progress) stepFunctions(e sfnEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.Time, e.Kind = time.Now(), "execution"
	if p.json != nil {
		p.json.Encode(e)
		return
	}
	if p.bar != nil && e.Total > 0 {
		if p.bar.GetMax() != int(e.Total) {
			p.bar.ChangeMax(int(e.Total))
		}
		p.bar.Set(int(e.Succeeded + e.Failed))
		p.bar.Describe(fmt.Sprintf("chunks: ok %d · failed %d · running %d · pending %d", e.Succeeded, e.Failed, e.Running, e.Pending))
		if e.Status == "RUNNING" {
			return
		}
	}
	p.lineLocked("execution %s: %s (chunks: %d ok, %d failed, %d running, %d pending of %d)",
		e.Execution, strings.ToLower(e.Status), e.Succeeded, e.Failed, e.Running, e.Pending, e.Total)
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

// attachStepFunctions follows the execution arn until it ends, showing
// its Map Run's counts; when it succeeded, it downloads the merged video
// into --out, proven against the SHA-256 the merge answered, and checks
// it as run checks its own merge. An interrupt ends the follow (130);
// the execution goes on, and --attach follows it again.
func (p *runPlan) attachStepFunctions(it *interrupts, st *stores, prog *progress, arn string, stdout, stderr io.Writer) error {
	ctx := it.ctx
	client, region, err := p.sfnClient(ctx)
	if err != nil {
		return err
	}
	if m := sfnExecutionPattern.FindStringSubmatch(arn); m != nil {
		region = m[2]
	}
	console := sfnConsoleURL(region, arn)
	prog.stepFunctions(sfnEvent{Status: "ATTACHED", Execution: arn, ConsoleURL: console})
	interrupted := func() error {
		return exitError{code: it.exitCode(), err: fmt.Errorf("interrupted: execution %s goes on; --attach %s follows it again (%s)", arn, arn, console)}
	}
	var last sfnEvent
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
		var notFound *types.ExecutionDoesNotExist
		switch {
		case errors.As(err, &notFound):
			return usageError{fmt.Errorf("--attach %s: no such execution: %w", arn, err)}
		case err != nil:
			if failures++; failures >= sfnMaxPollFailures {
				return fmt.Errorf("following execution %s: %d calls in a row failed, the last: %w; it goes on: --attach follows it again", arn, failures, err)
			}
			continue
		}
		failures = 0
		e := p.mapRunCounts(ctx, client, arn)
		e.Status, e.Execution = string(d.Status), arn
		if e.Total == 0 {
			e.Total = int64(len(p.job.Spec.Chunks))
		}
		if e != last {
			prog.stepFunctions(e)
			last = e
		}
		switch d.Status {
		case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
			continue
		case types.ExecutionStatusSucceeded:
			err := p.collectStepFunctions(ctx, st, prog, aws.ToString(d.Output))
			if ctx.Err() != nil {
				return interrupted()
			}
			if err == nil {
				os.Remove(p.attachPath())
				fmt.Fprintf(stdout, "execution %s succeeded: the merged video is %s\n", arn, p.mergedFile())
			}
			return err
		default:
			return fmt.Errorf("execution %s %s: %s: %s\nsee %s; the redrive of its failed chunks (aws stepfunctions redrive-execution --execution-arn %s) "+
				"tries only those again, as a --redrive flag of run will", arn, strings.ToLower(string(d.Status)),
				orDefault(aws.ToString(d.Error), "no error"), orDefault(aws.ToString(d.Cause), "no cause"), console, arn)
		}
	}
}

// mapRunCounts are the item counts of the execution's Map Runs; zero
// where there is none (an INLINE Map, or before the Map starts) or the
// calls fail: they only show progress.
func (p *runPlan) mapRunCounts(ctx context.Context, client *sfn.Client, arn string) sfnEvent {
	var e sfnEvent
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
		e.Total += c.Total
	}
	return e
}

// collectStepFunctions downloads the merged video that the execution's
// output names into --out, proven against its size and SHA-256, and
// checks it with ffprobe.
func (p *runPlan) collectStepFunctions(ctx context.Context, st *stores, prog *progress, output string) error {
	var res sfnMergeResult
	if err := json.Unmarshal([]byte(output), &res); err != nil || res.Merge == nil {
		return fmt.Errorf("the execution succeeded, but its output has no merge result (%v): %.500s", err, output)
	}
	m := res.Merge.Body
	if res.Merge.StatusCode != 200 || m.OutputURL == "" || m.OutputBytes == nil || m.OutputSHA256 == "" {
		return fmt.Errorf("the execution succeeded, but the merge answered status %d without a proven video (%s): %.500s",
			res.Merge.StatusCode, orDefault(m.Message, "no message"), output)
	}
	name := p.job.MergedName()
	if name == "" {
		name = m.OutputURL[strings.LastIndex(m.OutputURL, "/")+1:]
	}
	b, err := st.bucket(m.OutputURL)
	if err != nil {
		return err
	}
	out := fanout.Output{Chunk: -1, URL: m.OutputURL, File: name, Bytes: *m.OutputBytes, SHA256: m.OutputSHA256}
	prog.line("collecting the merged video %s into %s", m.OutputURL, p.out)
	stats, err := fanout.Collect(ctx, b, []fanout.Output{out}, p.out, 1)
	if err != nil {
		return fmt.Errorf("collecting the merged video: %w", err)
	}
	switch {
	case len(stats.Missing) > 0:
		return fmt.Errorf("%w: the merged video %s is not there", fanout.ErrMissing, m.OutputURL)
	case len(stats.Bad) > 0:
		return fmt.Errorf("%w: the merged video %s: %s", fanout.ErrMissing, m.OutputURL, stats.Bad[0].Why)
	}
	prog.line("collected %s, %s downloaded", name, sizeOf(stats.Bytes))
	return p.verifyMerged(ctx, prog)
}

// sfnHistoryPages bounds the history read for an INLINE Map's counts.
const sfnHistoryPages = 20

// iterationCounts are the counts of an INLINE Map's iterations, from the
// execution's history (a definition without a Map Run); zero when the
// history cannot be read.
func (p *runPlan) iterationCounts(ctx context.Context, client *sfn.Client, arn string) sfnEvent {
	var e sfnEvent
	var started int64
	pages := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for i := 0; pages.HasMorePages() && i < sfnHistoryPages; i++ {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return sfnEvent{}
		}
		for _, h := range page.Events {
			switch h.Type {
			case types.HistoryEventTypeMapIterationStarted:
				started++
			case types.HistoryEventTypeMapIterationSucceeded:
				e.Succeeded++
			case types.HistoryEventTypeMapIterationFailed, types.HistoryEventTypeMapIterationAborted:
				e.Failed++
			}
		}
	}
	if started == 0 {
		return sfnEvent{}
	}
	e.Total = int64(len(p.job.Spec.Chunks))
	e.Running = max(0, started-e.Succeeded-e.Failed)
	e.Pending = max(0, e.Total-started)
	return e
}
