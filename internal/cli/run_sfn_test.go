package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// --attach on --target aws takes an execution's ARN only: anything else
// is bad input, refused before a call.
func TestStepFunctionsAttachWantsAnARN(t *testing.T) {
	it := watchInterrupts(context.Background())
	defer it.stop()
	for _, attach := range []string{"render-job-x7k2p", "arn:aws:states:us-east-1:123456789012:stateMachine:helios-worker-render"} {
		p := &runPlan{o: &runOptions{attach: attach, progress: "none"}, out: t.TempDir()}
		err := p.runStepFunctions(it, &stores{}, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "execution's ARN") {
			t.Errorf("--attach %s: %v, want a usage error asking for an execution's ARN", attach, err)
		}
	}
}

// An execution that succeeded without a proven merged video is not
// collected: the merge's answer must name it, its size and SHA-256.
func TestStepFunctionsCollectNeedsAProvenVideo(t *testing.T) {
	p := &runPlan{o: &runOptions{}, out: t.TempDir(), job: &fanout.Job{Spec: &jobspec.Spec{}}}
	prog := newProgress("none", io.Discard, io.Discard, 0)
	for _, output := range []string{
		`{}`,
		`{"merge": {"statusCode": 500, "body": {"message": "boom"}}}`,
		`{"merge": {"statusCode": 200, "body": {"outputUrl": "s3://b/out.mp4"}}}`,
	} {
		if err := p.collectStepFunctions(context.Background(), &stores{}, prog, output); err == nil {
			t.Errorf("output %s: collected, want an error", output)
		}
	}
}

func TestStepFunctionsConsoleURL(t *testing.T) {
	arn := "arn:aws:states:eu-west-1:123456789012:execution:helios-worker-render:job-1"
	want := "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/" + arn
	if got := sfnConsoleURL("eu-west-1", arn); got != want {
		t.Errorf("sfnConsoleURL = %s, want %s", got, want)
	}
}
