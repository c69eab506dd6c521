package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/report"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
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
		if _, err := p.collectStepFunctions(context.Background(), &stores{}, prog, output); err == nil {
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

// fileSource serves s3://BUCKET/KEY from the files of a folder, by the
// key's last element.
type fileSource string

func (d fileSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), location[strings.LastIndex(location, "/")+1:]))
}

// The outcome of a Distributed Map's execution comes from the
// ResultWriter export its output names (the merge package's fixture: 3
// children succeeded, 1 failed, 1 pending): an attempt per child that
// ran, dated from its record; the pending one not run; the children's
// time priced, and their transitions. Without an export, and with no
// history to read, nothing is counted and only what ran is priced.
func TestStepFunctionsOutcomeFromResults(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:1") // no history
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	spec := &jobspec.Spec{}
	for i := range 5 {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), FrameCount: 30})
	}
	p := &runPlan{o: &runOptions{}, target: targetAWS, job: &fanout.Job{Spec: spec}, prices: cost.Default,
		worker: cost.Worker{Platform: cost.AWS, MemoryMB: 2048, Arch: "arm64"}}
	client, _, err := p.sfnClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src := fileSource(filepath.Join("..", "..", "runtime", "worker", "merge", "testdata", "results"))
	output := `{"map": {"ResultWriterDetails": {"Bucket": "helios-results", "Key": "results/ad9b5f27-090b-3ac6-9beb-243cd77144a7/manifest.json"}}}`
	ctx := testdeadline.Context(t)
	rec := newRecorder()
	s := p.sfnOutcome(ctx, client, src, "arn:aws:states:us-east-1:123456789012:execution:m:x", output, rec)
	// Every fixture child ran from 10:31:02.123 to 10:31:40.456 but chunk
	// 3's, redriven: its span holds the wait for the redrive, and its
	// worker's 1203 ms count instead.
	child, redriven := 38333*time.Millisecond, 1203*time.Millisecond
	m := cost.Model{Worker: p.worker, Prices: cost.Default}
	want := 3*m.Attempt(child) + m.Attempt(redriven) + 4*childTransitions*cost.Default.StepFunctionsTransition
	if s.OK != 3 || s.Failed != 1 || s.NotRun != 1 || s.WorkerSum != 3*child+redriven || math.Abs(s.SpentUSD-want) > 1e-12 {
		t.Errorf("summary %+v: want 3 ok, 1 failed, 1 not run, the children's time, $%g", s, want)
	}
	if len(rec.attempts) != 4 || rec.attempts[0].Chunk != 2 || rec.attempts[0].Outcome != report.OutcomeFailed || rec.attempts[1].Outcome != report.OutcomeOK ||
		rec.attempts[3].Chunk != 3 || rec.attempts[3].End.Sub(rec.attempts[3].Start) != redriven {
		t.Errorf("attempts %+v: want chunk 2 failed, then 3 ok, the redriven one drawn for its worker's time", rec.attempts)
	}

	s = p.sfnOutcome(ctx, client, src, "arn:aws:states:us-east-1:123456789012:execution:m:x", `{"merge": {}}`, newRecorder())
	if s.OK != 0 || s.Failed != 0 || s.NotRun != 5 || s.SpentUSD != 0 {
		t.Errorf("summary without an export or a history %+v: want nothing counted", s)
	}
}

// --attach holds the state's lock while it follows and downloads: a
// second run on the same state is refused (2) before any call, naming
// the holder.
func TestStepFunctionsAttachTakesTheLock(t *testing.T) {
	out := t.TempDir()
	state := filepath.Join(out, ".job.helios-run")
	lock, err := fanout.LockState(testdeadline.Context(t), state, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	t.Setenv("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:1") // nothing must call it
	it := watchInterrupts(context.Background())
	defer it.stop()
	p := &runPlan{o: &runOptions{attach: "arn:aws:states:us-east-1:123456789012:execution:m:x", progress: "none"}, out: out, state: state,
		job: &fanout.Job{Spec: &jobspec.Spec{}}}
	err = p.runStepFunctions(it, &stores{}, io.Discard, io.Discard)
	if !errors.Is(err, errUsage) || !errors.Is(err, fanout.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("--attach beside a run holding the state: %v, want a usage error naming the holder", err)
	}
}
