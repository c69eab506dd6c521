package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// inlineDefinition rewrites the scaffolded state machine's definition
// (a DISTRIBUTED Map that reads the chunk list from S3 and writes its
// results there) into the INLINE one that moto 5.2.1 executes: the Map
// iterates the execution input's chunkIds, which run puts beside the
// chunk list; each child emits its chunk's output as the merge reads it,
// and the Merge step sends those outputs instead of resultsUrl. The
// states that invoke the worker, their Retry, Choice and Fail states are
// the scaffolded ones.
func inlineDefinition(t *testing.T, def []byte) []byte {
	t.Helper()
	var asl map[string]any
	if err := json.Unmarshal(def, &asl); err != nil {
		t.Fatal(err)
	}
	states := asl["States"].(map[string]any)
	m := states["RenderChunks"].(map[string]any)
	for _, k := range []string{"ItemReader", "ResultWriter", "Label", "ToleratedFailurePercentage"} {
		delete(m, k)
	}
	m["ItemsPath"] = "$.chunkIds"
	proc := m["ItemProcessor"].(map[string]any)
	proc["ProcessorConfig"] = map[string]any{"Mode": "INLINE"}
	done := proc["States"].(map[string]any)["ChunkDone"].(map[string]any)
	done["Parameters"] = map[string]any{
		"chunk.$": "$.chunkIndex", "outputUrl.$": "$.result.body.outputUrl",
		"outputBytes.$": "$.result.body.outputBytes", "outputSha256.$": "$.result.body.outputSha256",
	}
	params := states["Merge"].(map[string]any)["Parameters"].(map[string]any)
	params["Payload"] = map[string]any{"jobPath.$": "$.jobPath", "action": "merge", "failAsError": true, "outputs.$": "$.map"}
	out, err := json.Marshal(asl)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// executionArn is an execution's ARN in what run printed.
var executionArn = regexp.MustCompile(`arn:aws:states:[^\s"]+:execution:[^\s"]+`)

// sfnRun is a state machine as run --detach meets it in these tests.
type sfnRun struct {
	srv    *s3test.Server
	bucket string
	fleet  *lambdatest.Fleet
	in     generator.Inputs
	v      videoProject
	args   []string // run's, but for --detach or --attach
}

// startSFN writes a video project of chunks chunks (with faults), and
// creates the scaffolded state machine of a function, in inline mode, in
// a moto_server of the test's own whose Step Functions interpreter sends
// lambda:invoke to a fleet of emulators of the aws example's bootstrap.
func startSFN(t *testing.T, chunks int, faults ...string) *sfnRun {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the example and the emulator, renders video; skipped with -short")
	}
	v := writeVideoProject(t, chunks, faults...)
	bins := lambdaBinaries(t)

	// moto's interpreter sends its service calls (lambda:invoke) to
	// localhost:$MOTO_PORT: a listener of the test's, which the fleet
	// serves, reserved before moto starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	t.Setenv("MOTO_PORT", port)
	// A server of the test's own: the interpreter is a setting of the
	// whole server, and moto runs one execution per region and process.
	srv := s3test.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(t))
	defer cancel()
	motoConfig(ctx, t, srv, `{"stepfunctions": {"execute_state_machine": true}}`)

	bucket := srv.NewBucket(t)
	fn := "helios-sfn-e2e"
	createFunction(t, srv, fn, -1)
	env := []string{
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=" + s3test.Region,
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", s3store.EnvForcePathStyle + "=true",
	}
	fleet := lambdatest.StartFleetT(t, bins, lambdatest.FleetOptions{
		Size: 4, Function: fn, ControlPlane: srv.Endpoint,
		Options: func(int) lambdatest.Options {
			root := t.TempDir()
			return lambdatest.Options{Env: append(env, worker.EnvWorkspaceRoot+"="+root), Dir: root}
		},
	})
	target, _ := url.Parse(fleet.Endpoint)
	proxy := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })
	for _, kv := range append(env, "AWS_ENDPOINT_URL_LAMBDA="+fleet.Endpoint, "AWS_ENDPOINT_URL_SFN="+srv.Endpoint) {
		k, val, _ := strings.Cut(kv, "=")
		t.Setenv(k, val)
	}

	// The state machine that init aws --orchestrator stepfunctions
	// scaffolds for this function and bucket, in inline mode.
	in := generator.Defaults(generator.AWS)
	in.Name, in.Region, in.JobBucket, in.OutputURL = fn, s3test.Region, bucket, "s3://"+bucket+"/runs/outputs"
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
	files, err := generator.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	def, err := checks.StateMachineDefinition(files["template.yaml"].Data, "StateMachine", map[string]string{
		"Partition": "aws", "WorkerArn": "arn:aws:lambda:" + s3test.Region + ":" + motoAccount + ":function:" + fn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := stepFunctions(ctx, t, srv, "CreateStateMachine", map[string]any{
		"name": in.StateMachineName(), "definition": string(inlineDefinition(t, def)),
		"roleArn": "arn:aws:iam::" + motoAccount + ":role/" + in.StateMachineName(), "type": "STANDARD",
	}, nil); status != http.StatusOK {
		t.Fatalf("CreateStateMachine: %d %s", status, body)
	}

	return &sfnRun{srv: srv, bucket: bucket, fleet: fleet, in: in, v: v,
		args: []string{v.Spec, "--target", "aws", "--function", fn, "--upload", "s3://" + bucket + "/runs"}}
}

// detach runs run --detach and returns the execution's ARN it printed.
func (r *sfnRun) detach(t *testing.T) string {
	t.Helper()
	out := runCLI(t, 0, append([]string{"run", "--progress", "none"}, append(r.args, "--detach")...)...)
	arn := executionArn.FindString(out)
	if arn == "" || !strings.Contains(arn, ":execution:"+r.in.StateMachineName()+":") {
		t.Fatalf("run --detach printed no execution of %s:\n%s", r.in.StateMachineName(), out)
	}
	if !strings.Contains(out, "https://"+s3test.Region+".console.aws.amazon.com/states/home?region="+s3test.Region+"#/v2/executions/details/"+arn) {
		t.Errorf("run --detach printed no console URL of the execution:\n%s", out)
	}
	return arn
}

// run --target aws --detach uploads a 3-chunk video project, writes its
// chunk list and starts an execution of the scaffolded state machine (in
// moto's Step Functions, in inline mode, whose lambda:invoke calls reach
// a fleet of emulators of the aws example's bootstrap), and exits; --attach
// follows it, is interrupted (130, the execution goes on), and a second
// --attach follows it to its end, collects the merged video that the
// state machine's Merge step uploaded, proven, and checks it: every frame.
func TestRunAWSStepFunctionsDetachAttach(t *testing.T) {
	r := startSFN(t, 3)
	srv, bucket, fleet, v, args := r.srv, r.bucket, r.fleet, r.v, r.args
	ctx := testdeadline.Context(t)
	// --detach: started, and named; run found the state machine by the
	// function's name.
	arn := r.detach(t)
	// The chunk list, where the state machine's role may read it.
	prefix := "runs/jobs/"
	list, err := srv.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	var chunkLists []string
	for _, o := range list.Contents {
		if strings.HasSuffix(aws.ToString(o.Key), generator.ChunkListSuffix) {
			chunkLists = append(chunkLists, aws.ToString(o.Key))
		}
	}
	if len(chunkLists) != 1 {
		t.Fatalf("chunk lists under s3://%s/%s: %v, want one", bucket, prefix, chunkLists)
	}
	obj, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &chunkLists[0]})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = json.NewDecoder(obj.Body).Decode(&ids)
	obj.Body.Close()
	if err != nil || len(ids) != 3 || ids[0] != 0 || ids[1] != 1 || ids[2] != 2 {
		t.Errorf("the chunk list %s: %v (%v), want [0 1 2]", chunkLists[0], ids, err)
	}

	// --attach, interrupted once it has seen the execution run: 130, and
	// the execution goes on.
	actx, acancel := context.WithCancel(testdeadline.Context(t))
	defer acancel()
	runEventsCtx(t, actx, 130, func(e map[string]any) {
		if e["event"] == "execution" && e["state"] == "running" {
			acancel()
		}
	}, append(args, "--attach", arn)...)

	// --attach again: to the end, the merged video collected and checked;
	// the summary priced from the function's size (read from its
	// configuration) and the state transitions, the webhook told, the
	// report drawn: an attempt per chunk.
	hook := startHookReceiver(t, "sfn-secret", 0)
	report := filepath.Join(t.TempDir(), "render.html")
	events, stderr := runEvents(t, 0, append(args, "--attach", arn, "--webhook", hook.URL, "--webhook-secret", "sfn-secret", "--report", report)...)
	execs := eventsOf(events, "execution")
	if len(execs) == 0 || execs[len(execs)-1]["state"] != "succeeded" || execs[len(execs)-1]["succeeded"] != 3.0 {
		t.Errorf("the last execution event of --attach: %v, want succeeded with 3 chunks succeeded\n%s", execs, stderr)
	}
	checkAllFrames(t, v)
	sum := summaryOf(t, events)
	if sum["ok"] != 3.0 || sum["failed"] != 0.0 || sum["spentUsd"].(float64) <= 0 || sum["workerMs"].(float64) <= 0 ||
		!strings.Contains(sum["prices"].(string), "arm64 2048 MB") || !strings.Contains(sum["prices"].(string), "Step Functions state transitions") {
		t.Errorf("the summary of --attach: %v, want 3 ok, priced from the function's arm64 2048 MB and the transitions", sum)
	}
	if p := hook.checkOneOutcome(t, "done"); p.OK != 3 || p.CostUSD <= 0 || !strings.HasSuffix(p.Output, "out.mp4") {
		t.Errorf("the webhook's payload %+v: want 3 ok, a cost and the merged video", p)
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(regexp.MustCompile(`<rect[^>]*\sdata-chunk=`).FindAll(page, -1)); n != 3 {
		t.Errorf("the report draws %d attempts, want one per chunk", n)
	}
	if n := fleet.Invocations(); sfnInvocations(n) < 4 {
		t.Errorf("the fleet ran %v invocations, want at least the 3 chunks and the merge", n)
	}
}

func sfnInvocations(ns []int) int {
	s := 0
	for _, n := range ns {
		s += n
	}
	return s
}

// A chunk whose output is not the video it should be (10 frames short)
// fails the execution: the Merge step proves every output as run does and
// refuses, and the scaffolded MergeFailed state ends it. --attach exits 1
// with the execution's error and cause, names the redrive, and collects
// nothing.
func TestRunAWSStepFunctionsFailed(t *testing.T) {
	r := startSFN(t, 3, "short-30") // chunk 1 renders 10 frames too few
	arn := r.detach(t)
	events, stderr := runEvents(t, 1, append(r.args, "--attach", arn)...)
	execs := eventsOf(events, "execution")
	if len(execs) == 0 || execs[len(execs)-1]["state"] != "failed" {
		t.Errorf("the last execution event of --attach: %v, want failed", execs)
	}
	if !strings.Contains(stderr, "Helios.MergeFailed") || !strings.Contains(stderr, "chunk 1: out_part_1.mp4 has 20 frames; want 30") || !strings.Contains(stderr, "redrive") {
		t.Errorf("--attach said:\n%s\nwant the execution's error Helios.MergeFailed, its cause naming chunk 1's 20 frames, and the redrive", stderr)
	}
	if _, err := os.Stat(filepath.Join(r.v.Dir, "out.mp4")); err == nil {
		t.Error("out.mp4 is in --out after a failed execution")
	}
	if sum := summaryOf(t, events); sum["ok"] != 3.0 || sum["spentUsd"].(float64) <= 0 {
		t.Errorf("the summary of --attach: %v, want the 3 chunks that rendered (the merge failed), priced", sum)
	}
}
