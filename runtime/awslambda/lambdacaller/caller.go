// Package lambdacaller invokes a Helios worker deployed on AWS Lambda and
// reads its answer as the wire contract's "Callers" section says. It is
// kept apart from runtime/awslambda so that worker binaries do not carry
// the AWS SDK.
package lambdacaller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Invoker is the part of *lambda.Client that a Caller uses.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Caller invokes one function synchronously.
type Caller struct {
	client   Invoker
	function string
}

// New returns a caller of the named function (a name, ARN or alias ARN).
func New(client Invoker, function string) *Caller {
	return &Caller{client: client, function: function}
}

// FunctionError is the invocation itself failing: the function crashed,
// timed out, or its response was too large. Lambda then sends only
// errorMessage and errorType.
type FunctionError struct {
	Kind    string `json:"-"` // the X-Amz-Function-Error header, such as "Unhandled"
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambda function error (%s): %s: %s", e.Kind, e.Type, e.Message)
}

// Temporary reports whether another invocation may succeed: the
// function crashed, ran out of memory or time, or was killed (the
// platform's doing, or a warm instance's state), but not when its
// response was too large, which the same chunk gives again.
func (e *FunctionError) Temporary() bool {
	return !strings.Contains(e.Type, "ResponseSizeTooLarge") && !strings.Contains(e.Message, "response is too large")
}

// ErrMalformed is wrapped when the answer is not in the contract's shape.
var ErrMalformed = errors.New("malformed worker response")

// Call runs the chunk and returns the worker's answer. A non-nil error
// means there is no answer: the request failed, the function failed
// (*FunctionError), or the response was malformed. A chunk that failed is
// not an error: see CallResult.OK.
func (c *Caller) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	out, err := c.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(c.function),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", c.function, err)
	}
	if out.FunctionError != nil {
		fe := &FunctionError{Kind: aws.ToString(out.FunctionError)}
		if err := json.Unmarshal(out.Payload, fe); err != nil {
			fe.Message = string(out.Payload)
		}
		return nil, fe
	}
	return Parse(out.Payload)
}

// Parse reads a worker's response payload: {statusCode, body}, where body
// is a string holding JSON or an object; output (or stdout) is the chunk's
// stdout; any status but 200 is a failure whose reason is body.message
// and whose kind, when the worker gives one, body.errorKind.
func Parse(payload []byte) (*worker.CallResult, error) {
	var resp struct {
		StatusCode int             `json:"statusCode"`
		Body       json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode == 0 {
		return nil, fmt.Errorf("%w: %.200s", ErrMalformed, payload)
	}
	body := []byte(resp.Body)
	if len(body) > 0 && body[0] == '"' {
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, fmt.Errorf("%w: body: %w", ErrMalformed, err)
		}
		body = []byte(s)
	}
	var b struct {
		awslambda.Body
		Stdout *string `json:"stdout"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			return nil, fmt.Errorf("%w: body: %w", ErrMalformed, err)
		}
	}
	r := &worker.CallResult{StatusCode: resp.StatusCode, Message: b.Message}
	if b.ExitCode != nil {
		r.ExitCode, r.HasExitCode = *b.ExitCode, true
	}
	r.Stdout = firstOf(b.Output, b.Stdout)
	r.Stderr = firstOf(b.Stderr)
	r.OutputURL, r.OutputSHA256, r.Renderer = b.OutputURL, b.OutputSHA256, b.Renderer
	if b.OutputBytes != nil {
		r.OutputBytes = *b.OutputBytes
	}
	if r.StatusCode != 200 {
		r.ErrorKind = string(b.ErrorKind)
	}
	return r, nil
}

func firstOf(ss ...*string) string {
	for _, s := range ss {
		if s != nil {
			return *s
		}
	}
	return ""
}
