package generator_test

// The Step Functions state machine of init aws --orchestrator stepfunctions:
// its definition (extracted from template.yaml, checked against the schema
// of the Amazon States Language subset and by cfn-lint's own rule, then
// fact by fact), its role, its output, and that generate and the 3-way
// merge keep it.

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/checks"
)

// stepFunctionsInputs are AWS inputs with the state machine.
func stepFunctionsInputs() generator.Inputs {
	in := generator.Defaults(generator.AWS)
	in.JobBucket, in.OutputURL = "my-render-jobs", "s3://my-render-outputs/renders"
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
	return in
}

// testAccount is the account that definitions are extracted for.
const testAccount = "123456789012"

// workerArn is the function's ARN in testAccount.
func workerArn(in generator.Inputs) string {
	return "arn:aws:lambda:" + in.Region + ":" + testAccount + ":function:" + in.Name
}

// stateMachineDefinition extracts the state machine's definition from
// template.yaml with its substitutions made as CloudFormation makes them in
// the aws partition and testAccount.
func stateMachineDefinition(t *testing.T, in generator.Inputs, template []byte) []byte {
	t.Helper()
	def, err := checks.StateMachineDefinition(template, "StateMachine",
		map[string]string{"Partition": "aws", "WorkerArn": workerArn(in)})
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return def
}

// The parts of the definition the checks look at.
type (
	aslMachine struct {
		StartAt string              `json:"StartAt"`
		States  map[string]aslState `json:"States"`
	}
	aslState struct {
		Type                       string          `json:"Type"`
		Next                       string          `json:"Next"`
		End                        bool            `json:"End"`
		Label                      string          `json:"Label"`
		MaxConcurrency             *int            `json:"MaxConcurrency"`
		ToleratedFailurePercentage *float64        `json:"ToleratedFailurePercentage"`
		ToleratedFailureCount      *int            `json:"ToleratedFailureCount"`
		ItemReader                 json.RawMessage `json:"ItemReader"`
		ItemSelector               json.RawMessage `json:"ItemSelector"`
		ItemProcessor              *struct {
			ProcessorConfig json.RawMessage     `json:"ProcessorConfig"`
			StartAt         string              `json:"StartAt"`
			States          map[string]aslState `json:"States"`
		} `json:"ItemProcessor"`
		ResultWriter   json.RawMessage `json:"ResultWriter"`
		Resource       string          `json:"Resource"`
		Parameters     json.RawMessage `json:"Parameters"`
		TimeoutSeconds int             `json:"TimeoutSeconds"`
		ResultSelector json.RawMessage `json:"ResultSelector"`
		ResultPath     string          `json:"ResultPath"`
		Retry          []struct {
			ErrorEquals     []string `json:"ErrorEquals"`
			IntervalSeconds int      `json:"IntervalSeconds"`
			BackoffRate     float64  `json:"BackoffRate"`
			MaxAttempts     int      `json:"MaxAttempts"`
			MaxDelaySeconds int      `json:"MaxDelaySeconds"`
			JitterStrategy  string   `json:"JitterStrategy"`
		} `json:"Retry"`
		Catch     json.RawMessage `json:"Catch"`
		Choices   json.RawMessage `json:"Choices"`
		Default   string          `json:"Default"`
		Error     string          `json:"Error"`
		CausePath string          `json:"CausePath"`
	}
)

// jsonEqual reports whether raw holds the same JSON value as want.
func jsonEqual(t *testing.T, raw json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return reflect.DeepEqual(a, b)
}

// checkStateMachine checks the state machine of template.yaml, or that
// there is none without --orchestrator stepfunctions.
func checkStateMachine(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	var tmpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Name     string               `yaml:"Name"`
				Type     string               `yaml:"Type"`
				Subs     map[string]yaml.Node `yaml:"DefinitionSubstitutions"`
				Policies []policy             `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
		Outputs map[string]struct {
			Value yaml.Node `yaml:"Value"`
		} `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var machines []string
	for name, r := range tmpl.Resources {
		if strings.Contains(r.Type, "StateMachine") {
			machines = append(machines, name)
		}
	}
	out, hasOutput := tmpl.Outputs["StateMachineArn"]
	if !in.HasStateMachine() {
		if len(machines) > 0 || hasOutput || strings.Contains(string(data), "states:") {
			t.Errorf("template.yaml: a state machine (%q, output %t) without --orchestrator stepfunctions", machines, hasOutput)
		}
		return
	}
	if !slices.Equal(machines, []string{"StateMachine"}) || tmpl.Resources["StateMachine"].Type != "AWS::Serverless::StateMachine" {
		t.Fatalf("template.yaml: state machines %q, want one AWS::Serverless::StateMachine named StateMachine", machines)
	}
	props := tmpl.Resources["StateMachine"].Properties
	if props.Name != in.StateMachineName() || props.Type != "STANDARD" {
		t.Errorf("template.yaml: state machine %q of type %q, want %q, STANDARD", props.Name, props.Type, in.StateMachineName())
	}
	if w := props.Subs["WorkerArn"]; w.Tag != "!GetAtt" || w.Value != "Worker.Arn" {
		t.Errorf("template.yaml: WorkerArn substitution %s %s, want !GetAtt Worker.Arn", w.Tag, w.Value)
	}
	if p := props.Subs["Partition"]; p.Tag != "!Ref" || p.Value != "AWS::Partition" {
		t.Errorf("template.yaml: Partition substitution %s %s, want !Ref AWS::Partition", p.Tag, p.Value)
	}
	if out.Value.Tag != "!Ref" || out.Value.Value != "StateMachine" {
		t.Errorf("template.yaml: output StateMachineArn = %s %s, want !Ref StateMachine", out.Value.Tag, out.Value.Value)
	}
	checkStateMachineRole(t, in, props.Policies)

	def := stateMachineDefinition(t, in, data)
	if err := checks.ValidateStateMachine(def); err != nil {
		t.Errorf("the state machine's definition: %v\n%s", err, def)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	switch err := checks.StateMachineCFNLint(ctx, def); {
	case errors.Is(err, checks.ErrNoCFNLint):
		t.Logf("the state machine's definition not linted: %v", err)
	case err != nil:
		t.Errorf("the state machine's definition: %v", err)
	}
	var m aslMachine
	if err := json.Unmarshal(def, &m); err != nil {
		t.Fatal(err)
	}
	checkDistributedMap(t, in, m)
	checkMerge(t, in, m)
}

type policy struct {
	Statement []statement `yaml:"Statement"`
}

type statement struct {
	Effect   string    `yaml:"Effect"`
	Action   []string  `yaml:"Action"`
	Resource yaml.Node `yaml:"Resource"`
}

// checkStateMachineRole wants the least privilege the state machine needs,
// statement by statement.
func checkStateMachineRole(t *testing.T, in generator.Inputs, policies []policy) {
	t.Helper()
	var grants []string
	for _, p := range policies {
		for _, s := range p.Statement {
			res := []string{s.Resource.Tag + " " + s.Resource.Value}
			if s.Resource.Kind == yaml.SequenceNode {
				res = nil
				for _, r := range s.Resource.Content {
					res = append(res, r.Tag+" "+r.Value)
				}
			}
			grants = append(grants, s.Effect+" "+strings.Join(s.Action, ",")+" "+strings.Join(res, " | "))
		}
	}
	states := "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
	want := []string{
		"Allow lambda:InvokeFunction !GetAtt Worker.Arn | !Sub ${Worker.Arn}:*",
		"Allow s3:GetObject !Sub arn:${AWS::Partition}:s3:::" + in.JobBucket + "/*" + generator.ChunkListSuffix,
		"Allow s3:PutObject,s3:GetObject,s3:ListMultipartUploadParts,s3:AbortMultipartUpload !Sub arn:${AWS::Partition}:s3:::" +
			in.JobBucket + "/" + generator.StateMachineResultsPrefix + "/*",
		"Allow states:StartExecution !Sub " + states + "stateMachine:" + in.StateMachineName(),
		"Allow states:DescribeExecution,states:StopExecution,states:RedriveExecution !Sub " + states + "execution:" + in.StateMachineName() + "/*",
	}
	if !slices.Equal(grants, want) {
		t.Errorf("template.yaml: the state machine's role grants\n%s\nwant\n%s", strings.Join(grants, "\n"), strings.Join(want, "\n"))
	}
	if arn := in.StateMachineArn("aws", testAccount); arn != "arn:aws:states:"+in.Region+":"+testAccount+":stateMachine:"+in.StateMachineName() {
		t.Errorf("StateMachineArn = %s", arn)
	}
}

// lambdaRetries are the errors each lambda:invoke Task retries, with full
// jitter: throttling and Lambda's own failures, and a Task timeout.
var lambdaRetries = []string{
	"Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException",
	"Lambda.AWSLambdaException", "Lambda.ClientExecutionTimeoutException", "States.Timeout",
}

// checkInvoke checks a lambda:invoke Task of the worker: its payload, its
// timeout, its retries, and the answer kept beside the input.
func checkInvoke(t *testing.T, in generator.Inputs, name string, s aslState, payload, resultPath string) {
	t.Helper()
	if s.Type != "Task" || s.Resource != "arn:aws:states:::lambda:invoke" {
		t.Errorf("%s: a %s of %s, want a lambda:invoke Task", name, s.Type, s.Resource)
	}
	if want := `{"FunctionName": "` + workerArn(in) + `", "Payload": ` + payload + `}`; !jsonEqual(t, s.Parameters, want) {
		t.Errorf("%s: Parameters %s, want %s", name, s.Parameters, want)
	}
	if s.TimeoutSeconds != in.TimeoutSeconds+60 {
		t.Errorf("%s: TimeoutSeconds %d, want the function's %d and a minute", name, s.TimeoutSeconds, in.TimeoutSeconds)
	}
	if want := `{"statusCode.$": "$.Payload.statusCode", "body.$": "States.StringToJson($.Payload.body)"}`; !jsonEqual(t, s.ResultSelector, want) || s.ResultPath != resultPath {
		t.Errorf("%s: ResultSelector %s to %s, want %s to %s", name, s.ResultSelector, s.ResultPath, want, resultPath)
	}
	var retried []string
	for _, r := range s.Retry {
		retried = append(retried, r.ErrorEquals...)
		if r.JitterStrategy != "FULL" || r.BackoffRate < 1 || r.MaxAttempts < 1 || r.MaxDelaySeconds < r.IntervalSeconds {
			t.Errorf("%s: retrier %+v, want full jitter, a backoff and a bound", name, r)
		}
	}
	if !slices.Equal(retried, lambdaRetries) {
		t.Errorf("%s: retries %q, want %q", name, retried, lambdaRetries)
	}
	if s.Catch != nil {
		t.Errorf("%s: catches %s: a failure that retries do not cure must fail the state", name, s.Catch)
	}
}

func checkDistributedMap(t *testing.T, in generator.Inputs, m aslMachine) {
	t.Helper()
	mp := m.States[m.StartAt]
	if m.StartAt != "RenderChunks" || mp.Type != "Map" || mp.ItemProcessor == nil || mp.Next != "Merge" {
		t.Fatalf("the state machine starts at %s, a %s going to %s; want the Map RenderChunks, then Merge", m.StartAt, mp.Type, mp.Next)
	}
	if !jsonEqual(t, mp.ItemProcessor.ProcessorConfig, `{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}`) {
		t.Errorf("RenderChunks: ProcessorConfig %s, want a Distributed Map of Standard executions", mp.ItemProcessor.ProcessorConfig)
	}
	if mp.MaxConcurrency == nil || *mp.MaxConcurrency != in.MaxConcurrency || mp.Label == "" {
		t.Errorf("RenderChunks: MaxConcurrency %v and Label %q, want %d and a label", mp.MaxConcurrency, mp.Label, in.MaxConcurrency)
	}
	// Left out, the tolerance is 0 (moto 5.2.1 refuses an integer 0).
	if mp.ToleratedFailurePercentage != nil || mp.ToleratedFailureCount != nil {
		t.Errorf("RenderChunks: ToleratedFailurePercentage %v, ToleratedFailureCount %v: want both left at 0", mp.ToleratedFailurePercentage, mp.ToleratedFailureCount)
	}
	if want := `{"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
		"Parameters": {"Bucket.$": "$.chunks.bucket", "Key.$": "$.chunks.key"}}`; !jsonEqual(t, mp.ItemReader, want) {
		t.Errorf("RenderChunks: ItemReader %s, want %s", mp.ItemReader, want)
	}
	if want := `{"jobPath.$": "$.jobPath", "chunkIndex.$": "$$.Map.Item.Value"}`; !jsonEqual(t, mp.ItemSelector, want) {
		t.Errorf("RenderChunks: ItemSelector %s, want %s", mp.ItemSelector, want)
	}
	if want := `{"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "` + in.JobBucket + `", "Prefix": "` +
		generator.StateMachineResultsPrefix + `"}}`; !jsonEqual(t, mp.ResultWriter, want) || mp.ResultPath != "$.map" {
		t.Errorf("RenderChunks: ResultWriter %s to %s, want %s to $.map", mp.ResultWriter, mp.ResultPath, want)
	}

	p := mp.ItemProcessor
	render := p.States[p.StartAt]
	checkInvoke(t, in, "RenderChunk", render, `{"jobPath.$": "$.jobPath", "chunkIndex.$": "$.chunkIndex", "failAsError": true}`, "$.result")
	choice := p.States[render.Next]
	if choice.Type != "Choice" {
		t.Fatalf("RenderChunk goes to a %s, want a Choice", choice.Type)
	}
	// A chunk succeeds on a 200 that says where its output is; the
	// worker's failures are 200 invokes with another statusCode.
	var choices []struct {
		And  []map[string]any `json:"And"`
		Next string           `json:"Next"`
	}
	if err := json.Unmarshal(choice.Choices, &choices); err != nil || len(choices) == 0 {
		t.Fatalf("%s: Choices %s: %v", render.Next, choice.Choices, err)
	}
	wantAnd := []map[string]any{
		{"Variable": "$.result.statusCode", "NumericEquals": 200.0},
		{"Variable": "$.result.body.outputUrl", "IsPresent": true},
		{"Variable": "$.result.body.outputBytes", "IsPresent": true},
		{"Variable": "$.result.body.outputSha256", "IsPresent": true},
	}
	if !reflect.DeepEqual(choices[0].And, wantAnd) {
		t.Errorf("%s: the first choice is %v, want %v", render.Next, choices[0].And, wantAnd)
	}
	done := p.States[choices[0].Next]
	// A child's output is the worker's answer, body parsed, as the merge
	// reads it from the results (runtime/worker/merge), and the chunk.
	if want := `{"chunk.$": "$.chunkIndex", "statusCode.$": "$.result.statusCode", "body.$": "$.result.body"}`; done.Type != "Pass" || !done.End || !jsonEqual(t, done.Parameters, want) {
		t.Errorf("%s: a %s (end %t) with %s, want a Pass that ends with %s", choices[0].Next, done.Type, done.End, done.Parameters, want)
	}
	for _, c := range choices[1:] {
		checkFail(t, p.States, c.Next, "Helios.ChunkFailed")
	}
	checkFail(t, p.States, choice.Default, "Helios.ChunkFailed")
}

// checkFail wants the named state to be a Fail with the error and a cause.
func checkFail(t *testing.T, states map[string]aslState, name, wantError string) {
	t.Helper()
	s := states[name]
	if s.Type != "Fail" || s.Error != wantError || !strings.HasPrefix(s.CausePath, "States.Format(") {
		t.Errorf("%s: a %s of error %q, cause %q; want a Fail %s with a formatted cause", name, s.Type, s.Error, s.CausePath, wantError)
	}
}

func checkMerge(t *testing.T, in generator.Inputs, m aslMachine) {
	t.Helper()
	merge := m.States["Merge"]
	checkInvoke(t, in, "Merge", merge, `{"jobPath.$": "$.jobPath", "action": "merge", "failAsError": true,
		"resultsUrl.$": "States.Format('s3://{}/{}', $.map.ResultWriterDetails.Bucket, $.map.ResultWriterDetails.Key)"}`, "$.merge")
	choice := m.States[merge.Next]
	var choices []map[string]any
	if err := json.Unmarshal(choice.Choices, &choices); err != nil || len(choices) == 0 || choice.Type != "Choice" {
		t.Fatalf("Merge goes to a %s with Choices %s (%v), want a Choice", choice.Type, choice.Choices, err)
	}
	want := map[string]any{"Variable": "$.merge.statusCode", "NumericEquals": 200.0, "Next": "Rendered"}
	if !maps.Equal(choices[0], want) || m.States["Rendered"].Type != "Succeed" {
		t.Errorf("%s: the first choice is %v, want %v, a Succeed", merge.Next, choices[0], want)
	}
	for _, c := range choices[1:] {
		checkFail(t, m.States, c["Next"].(string), "Helios.MergeFailed")
	}
	checkFail(t, m.States, choice.Default, "Helios.MergeFailed")
}

// checkOutputLimit wants HELIOS_OUTPUT_LIMIT set to keep the worker's
// answer within what Step Functions passes between states, only under
// the state machine.
func checkOutputLimit(t *testing.T, in generator.Inputs, env map[string]string) {
	t.Helper()
	limit, ok := env["HELIOS_OUTPUT_LIMIT"]
	if !in.HasStateMachine() {
		if ok {
			t.Errorf("template.yaml: HELIOS_OUTPUT_LIMIT %q without the state machine", limit)
		}
		return
	}
	// Each byte of the two tails and of the message (4 KiB at most) may
	// cost 7 once escaped twice; Step Functions passes 256 KiB.
	n, err := strconv.Atoi(limit)
	if err != nil || n < 1024 || (2*n+4096)*7 > 256*1024-4096 {
		t.Errorf("template.yaml: HELIOS_OUTPUT_LIMIT %q: the answer may not fit in the 256 KiB a state passes on (%v)", limit, err)
	}
}

// TestRenderStateMachineBounds renders the state machine at the bounds of
// its inputs: every check of the golden test, without a golden file.
func TestRenderStateMachineBounds(t *testing.T) {
	tests := []struct {
		name string
		edit func(*generator.Inputs)
	}{
		{"one at a time, 1 s, zip, x86_64", func(in *generator.Inputs) {
			in.MaxConcurrency, in.TimeoutSeconds, in.Package, in.Arch = 1, 1, "zip", "x86_64"
		}},
		{"10000 at once, a 64-character name, a bucket-wide output", func(in *generator.Inputs) {
			in.MaxConcurrency, in.Name = 10000, strings.Repeat("w_", 32)
			in.JobBucket, in.OutputURL, in.Region = "jobs.example.com", "s3://jobs.example.com", "eu-west-3"
		}},
		{"render-ready image", func(in *generator.Inputs) {
			in.SetDeps(generator.DepsHelios)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := stepFunctionsInputs()
			tt.edit(&in)
			checkRendered(t, in, renderTwice(t, in))
		})
	}
}

// TestSetOrchestrator: stepfunctions gets the default concurrency unless
// one is set, and none clears it.
func TestSetOrchestrator(t *testing.T) {
	in := generator.Defaults(generator.AWS)
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
	if in.MaxConcurrency != generator.DefaultMaxConcurrency {
		t.Errorf("stepfunctions: MaxConcurrency %d, want %d", in.MaxConcurrency, generator.DefaultMaxConcurrency)
	}
	in.MaxConcurrency = 7
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
	if in.MaxConcurrency != 7 {
		t.Errorf("stepfunctions again: MaxConcurrency %d, want 7 kept", in.MaxConcurrency)
	}
	in.SetOrchestrator(generator.OrchestratorNone)
	if in.MaxConcurrency != 0 || in.HasStateMachine() {
		t.Errorf("none: MaxConcurrency %d, state machine %t; want 0, false", in.MaxConcurrency, in.HasStateMachine())
	}
	if name := stepFunctionsInputs().StateMachineName(); name != "helios-worker-render" {
		t.Errorf("StateMachineName = %q", name)
	}
}

// TestStateMachineRegenerates: the answers record the orchestrator and the
// concurrency, generate renders the same bytes from them, and without the
// flag nothing of the state machine is recorded.
func TestStateMachineRegenerates(t *testing.T) {
	dir := t.TempDir()
	in := stepFunctionsInputs()
	in.Module, in.MaxConcurrency = "example.com/farm", 250
	a := scaffold(t, dir, in, nil, generator.Options{})
	if a.Inputs.Orchestrator != generator.OrchestratorStepFunctions || a.Inputs.MaxConcurrency != 250 {
		t.Errorf("answers: orchestrator %q, max concurrency %d", a.Inputs.Orchestrator, a.Inputs.MaxConcurrency)
	}
	marshalled := string(a.Marshal())
	if !strings.Contains(marshalled, `"orchestrator": "stepfunctions"`) || !strings.Contains(marshalled, `"maxConcurrency": 250`) {
		t.Errorf("answers file:\n%s", marshalled)
	}
	p := planDir(t, dir, a.Inputs, a, generator.Options{})
	if len(p.Changes()) != 0 {
		t.Errorf("regenerating from the answers changes %d files", len(p.Changes()))
	}
	if got := fileText(t, dir, "template.yaml"); !strings.Contains(got, "            MaxConcurrency: 250\n") {
		t.Errorf("template.yaml has no MaxConcurrency 250:\n%s", got)
	}

	plain := farmInputs()
	b, err := generator.Render(plain)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(generator.Answers{Version: testVersion, Inputs: plain, Files: map[string]string{"template.yaml": generator.Hash(b["template.yaml"].Data)}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); strings.Contains(s, "orchestrator") || strings.Contains(s, "maxConcurrency") {
		t.Errorf("answers without the flag record it: %s", s)
	}
}

// TestStateMachineMerge: the 3-way merge covers template.yaml with the
// state machine. A user's edit outside it survives turning it on and a
// change of --max-concurrency; an edit inside it survives a change
// elsewhere.
func TestStateMachineMerge(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("merging needs git")
	}
	const (
		tags     = "      Tags:\n        team: video\n"
		describe = "      Description: Runs"
	)
	plain := farmInputs()
	plain.JobBucket, plain.OutputURL = "my-render-jobs", "s3://my-render-outputs/renders"
	withMachine := plain
	withMachine.SetOrchestrator(generator.OrchestratorStepFunctions)
	moreAtOnce := withMachine
	moreAtOnce.MaxConcurrency = 400
	moreMemory := withMachine
	moreMemory.MemoryMB = 4096
	tests := []struct {
		name       string
		first      generator.Inputs
		edit       func(string) string
		next       generator.Inputs
		wantInFile []string
	}{
		{"turned on after an edit of the function", plain,
			func(s string) string { return strings.Replace(s, describe, tags+describe, 1) },
			withMachine, []string{tags, "  StateMachine:\n", "HELIOS_OUTPUT_LIMIT", "  StateMachineArn:\n"}},
		{"an edit of the function, then --max-concurrency", withMachine,
			func(s string) string { return strings.Replace(s, describe, tags+describe, 1) },
			moreAtOnce, []string{tags, "            MaxConcurrency: 400\n"}},
		{"an edit of the state machine, then --memory", withMachine,
			func(s string) string {
				return strings.Replace(s, "      Type: STANDARD\n", "      Type: STANDARD\n      Tracing:\n        Enabled: true\n", 1)
			},
			moreMemory, []string{"      Tracing:\n        Enabled: true\n", "      MemorySize: 4096\n"}},
		{"turned off after an edit of the function", withMachine,
			func(s string) string { return strings.Replace(s, describe, tags+describe, 1) },
			plain, []string{tags}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prev := scaffold(t, dir, tt.first, nil, generator.Options{})
			edited := tt.edit(fileText(t, dir, "template.yaml"))
			if edited == fileText(t, dir, "template.yaml") {
				t.Fatal("the edit changed nothing")
			}
			putFile(t, dir, "template.yaml", edited)
			p := planDir(t, dir, tt.next, prev, generator.Options{})
			if act := actionFor(t, p, "template.yaml"); act.Fate != generator.Merge {
				t.Fatalf("template.yaml: %s (%s), want a clean merge", act.Fate, act.Note)
			}
			if err := p.Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := fileText(t, dir, "template.yaml")
			for _, want := range tt.wantInFile {
				if !strings.Contains(got, want) {
					t.Errorf("merged template.yaml lacks %q:\n%s", want, got)
				}
			}
			// The merge is the new render with the edit: undoing the edit
			// gives the render back.
			undone := strings.Replace(strings.Replace(got, tags, "", 1), "      Tracing:\n        Enabled: true\n", "", 1)
			if want := string(renderInputs(t, tt.next)["template.yaml"].Data); undone != want {
				t.Errorf("the merged template.yaml, without the edit, is not the new render:\n%s", undone)
			}
			if tt.next.HasStateMachine() {
				checkStateMachine(t, tt.next, []byte(got))
			} else if strings.Contains(got, "StateMachine") {
				t.Errorf("turned off, template.yaml keeps the state machine:\n%s", got)
			}
		})
	}
}
