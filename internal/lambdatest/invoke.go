package lambdatest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Invocation is one synchronous invoke: the bytes the SDK received and
// what lambdacaller made of them.
type Invocation struct {
	// Payload is the raw response payload.
	Payload []byte
	// FunctionError is the X-Amz-Function-Error header: empty unless the
	// invocation itself failed.
	FunctionError string
	// Result and Err are lambdacaller's reading of the answer; Err may be
	// a *lambdacaller.FunctionError, wrap lambdacaller.ErrMalformed, or
	// be the SDK's error (then Payload is nil).
	Result *worker.CallResult
	Err    error
	// Duration is the wall time of the invoke.
	Duration time.Duration
}

// Call invokes the function with req through lambdacaller.New(client,
// "function"), as an orchestrator would.
func (e *Emulator) Call(ctx context.Context, req jobspec.Request) Invocation {
	return e.call(ctx, req, nil)
}

// Invoke sends payload as it is, which need not be a valid request, and
// reads the answer through the same lambdacaller code path as Call.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) Invocation {
	if payload == nil {
		payload = []byte{}
	}
	return e.call(ctx, jobspec.Request{}, payload)
}

func (e *Emulator) call(ctx context.Context, req jobspec.Request, raw []byte) Invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := &recorder{client: e.Client, payload: raw}
	start := time.Now()
	res, err := lambdacaller.New(rec, FunctionName).Call(ctx, req)
	inv := Invocation{Result: res, Err: err, Duration: time.Since(start)}
	if rec.out != nil {
		inv.Payload = rec.out.Payload
		inv.FunctionError = aws.ToString(rec.out.FunctionError)
	}
	return inv
}

// recorder is a lambdacaller.Invoker that keeps the SDK's output and, when
// payload is set, sends it instead of the caller's encoded request.
type recorder struct {
	client  *lambda.Client
	payload []byte
	out     *lambda.InvokeOutput
}

func (r *recorder) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if r.payload != nil {
		in.Payload = r.payload
	}
	out, err := r.client.Invoke(ctx, in, opts...)
	r.out = out
	return out, err
}

// Event is the contract's invocation payload for jobPath and chunkIndex.
func Event(jobPath string, chunkIndex int64) []byte {
	b, _ := json.Marshal(jobspec.Request{JobPath: jobPath, ChunkIndex: chunkIndex})
	return b
}
