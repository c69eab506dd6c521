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
		return p.attachAndTell(it, st, prog, arn, stdout, stderr)
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
	cfg, err := p.sfnConfig(ctx)
	if err != nil {
		return nil, "", err
	}
	return sfn.NewFromConfig(cfg), cfg.Region, nil
}

// sfnConfig is the AWS configuration in the run's region: --region, the
// answers', else the region of the execution --attach names.
func (p *runPlan) sfnConfig(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if p.region != "" {
		opts = append(opts, config.WithRegion(p.region))
	}
	if m := sfnExecutionPattern.FindStringSubmatch(p.o.attach); m != nil && p.region == "" {
		opts = append(opts, config.WithRegion(m[2])) // where the execution runs
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return cfg, nil
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
	prog.execution(executionEvent{State: "started", Execution: arn, ConsoleURL: console, Chunks: int64(len(ids))})
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
