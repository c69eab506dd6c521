package lambdacaller_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// sha256Hex is the SHA-256 of "x\n", as an answer carries one.
const sha256Hex = "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    worker.CallResult
	}{
		{"success, body a JSON string",
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"frames\\n\",\"stderr\":\"warn\\n\",\"durationMs\":12}"}`,
			worker.CallResult{StatusCode: 200, ExitCode: 0, HasExitCode: true, Stdout: "frames\n", Stderr: "warn\n"}},
		{"success, body an object",
			`{"statusCode":200,"body":{"exitCode":0,"output":"frames\n","stderr":""}}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "frames\n"}},
		{"stdout instead of output",
			`{"statusCode":200,"body":{"exitCode":0,"stdout":"from stdout","stderr":"e"}}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "from stdout", Stderr: "e"}},
		{"output wins over stdout",
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"o\",\"stdout\":\"s\"}"}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "o"}},
		{"chunk failed",
			`{"statusCode":500,"body":"{\"exitCode\":3,\"output\":\"o\",\"stderr\":\"e\",\"message\":\"chunk command exited with code 3\"}"}`,
			worker.CallResult{StatusCode: 500, ExitCode: 3, HasExitCode: true, Stdout: "o", Stderr: "e",
				Message: "chunk command exited with code 3"}},
		{"timed out",
			`{"statusCode":500,"body":"{\"exitCode\":-1,\"output\":\"partial\",\"stderr\":\"\",\"message\":\"chunk timed out\",\"outputTruncated\":true}"}`,
			worker.CallResult{StatusCode: 500, ExitCode: -1, HasExitCode: true, Stdout: "partial", Message: "chunk timed out"}},
		{"could not run",
			`{"statusCode":500,"body":"{\"message\":\"Chunk with ID 9 not found in job spec\"}"}`,
			worker.CallResult{StatusCode: 500, Message: "Chunk with ID 9 not found in job spec"}},
		{"bad payload",
			`{"statusCode":400,"body":"{\"message\":\"Invalid payload: must be an object\"}"}`,
			worker.CallResult{StatusCode: 400, Message: "Invalid payload: must be an object"}},
		{"output uploaded",
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"outputUrl\":\"s3://renders/out/chunk_3.mp4\",\"outputBytes\":1048576}"}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true, OutputURL: "s3://renders/out/chunk_3.mp4", OutputBytes: 1 << 20}},
		{"upload failed",
			`{"statusCode":500,"body":{"exitCode":0,"output":"","stderr":"","message":"uploading chunk_3.mp4 to s3://renders/out/chunk_3.mp4: access denied"}}`,
			worker.CallResult{StatusCode: 500, HasExitCode: true, Message: "uploading chunk_3.mp4 to s3://renders/out/chunk_3.mp4: access denied"}},
		{"output uploaded, with its SHA-256",
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"outputUrl\":\"s3://renders/out/c.mp4\",\"outputBytes\":2,\"outputSha256\":\"` + sha256Hex + `\"}"}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true, OutputURL: "s3://renders/out/c.mp4", OutputBytes: 2, OutputSHA256: sha256Hex}},
		{"kind of a failure",
			`{"statusCode":500,"body":"{\"message\":\"outputFile \\\"a\\\\u0000b\\\" of chunk 0 holds a NUL byte\",\"errorKind\":\"spec\"}"}`,
			worker.CallResult{StatusCode: 500, Message: `outputFile "a\u0000b" of chunk 0 holds a NUL byte`, ErrorKind: "spec"}},
		{"kind of a failed command, body an object",
			`{"statusCode":500,"body":{"exitCode":3,"output":"","stderr":"","message":"m","errorKind":"failed"}}`,
			worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: 3, Message: "m", ErrorKind: "failed"}},
		{"no kind in a success",
			`{"statusCode":200,"body":{"exitCode":0,"output":"","errorKind":"spec"}}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true}},
		{"unknown fields ignored",
			`{"statusCode":200,"headers":{"a":"b"},"body":{"exitCode":0,"output":"","future":[1]}}`,
			worker.CallResult{StatusCode: 200, HasExitCode: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lambdacaller.Parse([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
			if got.OK() != (tc.want.StatusCode == 200) {
				t.Errorf("OK() = %v", got.OK())
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for _, payload := range []string{
		``,
		`not json`,
		`[]`,
		`null`,
		`{}`,
		`{"body":"{}"}`,
		`{"statusCode":"200","body":"{}"}`,
		`{"statusCode":0,"body":"{}"}`,
		`{"statusCode":200,"body":"not json"}`,
		`{"statusCode":200,"body":"\"a string in a string\""}`,
		`{"statusCode":200,"body":"[1]"}`,
		`{"statusCode":200,"body":42}`,
		`{"statusCode":200,"body":{"exitCode":"0"}}`,
		`{"statusCode":200,"body":{"output":7}}`,
		`{"statusCode":500,"body":"{\"message\":\"cut`,
	} {
		got, err := lambdacaller.Parse([]byte(payload))
		if !errors.Is(err, lambdacaller.ErrMalformed) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrMalformed", payload, got, err)
		}
	}
}

// fakeInvoker answers with out and err, and keeps what it was asked.
type fakeInvoker struct {
	out *lambda.InvokeOutput
	err error
	in  *lambda.InvokeInput
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.in = in
	return f.out, f.err
}

func TestCall(t *testing.T) {
	f := &fakeInvoker{out: &lambda.InvokeOutput{StatusCode: 200,
		Payload: []byte(`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"ok\",\"stderr\":\"\"}"}`)}}
	got, err := lambdacaller.New(f, "arn:aws:lambda:us-east-1:123456789012:function:helios").
		Call(context.Background(), jobspec.Request{JobPath: "s3://renders/job-42.json", ChunkIndex: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !got.OK() || got.Stdout != "ok" || !got.HasExitCode {
		t.Errorf("got %+v", *got)
	}
	if aws.ToString(f.in.FunctionName) != "arn:aws:lambda:us-east-1:123456789012:function:helios" ||
		f.in.InvocationType != types.InvocationTypeRequestResponse {
		t.Errorf("invoked %q with %q", aws.ToString(f.in.FunctionName), f.in.InvocationType)
	}
	var sent map[string]any
	if err := json.Unmarshal(f.in.Payload, &sent); err != nil ||
		len(sent) != 2 || sent["jobPath"] != "s3://renders/job-42.json" || sent["chunkIndex"] != 3.0 {
		t.Errorf("sent %s", f.in.Payload)
	}
}

func TestCallFunctionError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    lambdacaller.FunctionError
	}{
		{"errorMessage and errorType",
			`{"errorMessage":"Runtime exited with error: exit status 2","errorType":"Runtime.ExitError"}`,
			lambdacaller.FunctionError{Kind: "Unhandled", Type: "Runtime.ExitError", Message: "Runtime exited with error: exit status 2"}},
		{"not JSON", `Task timed out after 3.00 seconds`,
			lambdacaller.FunctionError{Kind: "Unhandled", Message: "Task timed out after 3.00 seconds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeInvoker{out: &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: []byte(tc.payload)}}
			got, err := lambdacaller.New(f, "function").Call(context.Background(), jobspec.Request{JobPath: "j", ChunkIndex: 0})
			var fe *lambdacaller.FunctionError
			if !errors.As(err, &fe) || got != nil {
				t.Fatalf("Call = %+v, %v; want a *FunctionError", got, err)
			}
			if *fe != tc.want {
				t.Errorf("got  %+v\nwant %+v", *fe, tc.want)
			}
			if errors.Is(err, lambdacaller.ErrMalformed) {
				t.Error("a FunctionError is not a malformed answer")
			}
			if fe.Error() == "" {
				t.Error("empty Error()")
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	sdkErr := errors.New("dial tcp: connection refused")
	_, err := lambdacaller.New(&fakeInvoker{err: sdkErr}, "function").Call(context.Background(), jobspec.Request{JobPath: "j"})
	if !errors.Is(err, sdkErr) {
		t.Errorf("SDK error: got %v, want it wrapped", err)
	}
	f := &fakeInvoker{out: &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"errorMessage":"x"}`)}}
	_, err = lambdacaller.New(f, "function").Call(context.Background(), jobspec.Request{JobPath: "j"})
	if !errors.Is(err, lambdacaller.ErrMalformed) {
		t.Errorf("payload without statusCode: got %v, want ErrMalformed", err)
	}
}
