package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// redriveStandIn stands in for Step Functions' RedriveExecution, which
// moto 5.2.1 lacks, in front of the test's moto. A redrive of a failed,
// aborted or timed-out execution runs it again under a second moto's
// interpreter: the same state machine, execution name and input, so the
// same ARN, whose later calls that moto answers. The first
// DescribeExecution after a redrive is answered by the first moto, as
// the execution was before it: the window in which a client may still
// read the old status. Unlike Step Functions, the execution runs again
// from its start rather than from its failed children; what run does
// (call RedriveExecution, follow the same ARN) is the same. Any other
// status is refused with ExecutionNotRedrivable, as Step Functions does.
type redriveStandIn struct {
	first, second *httputil.ReverseProxy
	c1, c2        *sfn.Client

	mu       sync.Mutex
	redriven map[string]string // the ARN to the client token of its redrive
	stale    map[string]bool   // its next DescribeExecution reads the first moto
	calls    []string          // every RedriveExecution's ARN, and whether refused
	errs     []error
}

// startRedriveStandIn serves the stand-in in front of first, with a moto
// of its own whose interpreter runs what is redriven, as the endpoint of
// Step Functions.
func startRedriveStandIn(t *testing.T, first *s3test.Server) *redriveStandIn {
	t.Helper()
	second := s3test.Start(t) // its interpreter sends lambda:invoke to $MOTO_PORT too
	motoConfig(testdeadline.Context(t), t, second, `{"stepfunctions": {"execute_state_machine": true}}`)
	client := func(s *s3test.Server) *sfn.Client {
		return sfn.NewFromConfig(s.Config(s3test.AccessKeyID, s3test.SecretAccessKey), func(o *sfn.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
	}
	proxy := func(s *s3test.Server) *httputil.ReverseProxy {
		u, err := url.Parse(s.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		return httputil.NewSingleHostReverseProxy(u)
	}
	h := &redriveStandIn{first: proxy(first), second: proxy(second), c1: client(first), c2: client(second),
		redriven: map[string]string{}, stale: map[string]bool{}}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, err := range h.errs {
			t.Errorf("the redrive stand-in: %v", err)
		}
	})
	t.Setenv("AWS_ENDPOINT_URL_SFN", srv.URL)
	return h
}

func (h *redriveStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		ExecutionArn string `json:"executionArn"`
		ClientToken  string `json:"clientToken"`
	}
	json.Unmarshal(body, &in)
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	if action == "RedriveExecution" {
		h.redrive(w, r.Context(), in.ExecutionArn, in.ClientToken)
		return
	}
	h.mu.Lock()
	_, second := h.redriven[in.ExecutionArn]
	if second && action == "DescribeExecution" && h.stale[in.ExecutionArn] {
		second, h.stale[in.ExecutionArn] = false, false
	}
	h.mu.Unlock()
	if second {
		h.second.ServeHTTP(w, r)
		return
	}
	h.first.ServeHTTP(w, r)
}

func (h *redriveStandIn) redrive(w http.ResponseWriter, ctx context.Context, arn, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, arn)
	refuse := func(format string, args ...any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "ExecutionNotRedrivable", "message": fmt.Sprintf(format, args...)})
	}
	if t, ok := h.redriven[arn]; ok {
		if t != token {
			refuse("Execution %s was redriven and is running", arn)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"redriveDate": float64(time.Now().Unix())})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := h.c1.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		h.fail(w, fmt.Errorf("describing %s: %w", arn, err))
		return
	}
	if !map[types.ExecutionStatus]bool{types.ExecutionStatusFailed: true, types.ExecutionStatusTimedOut: true, types.ExecutionStatusAborted: true}[d.Status] {
		refuse("Execution %s is %s: only a failed, timed-out or aborted execution can be redriven", arn, d.Status)
		return
	}
	sm, err := h.c1.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: d.StateMachineArn})
	if err != nil {
		h.fail(w, fmt.Errorf("describing %s: %w", aws.ToString(d.StateMachineArn), err))
		return
	}
	created, err := h.c2.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: sm.Name, Definition: sm.Definition, RoleArn: sm.RoleArn, Type: sm.Type})
	if err != nil {
		h.fail(w, fmt.Errorf("creating %s again: %w", aws.ToString(sm.Name), err))
		return
	}
	again, err := h.c2.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Name: d.Name, Input: d.Input})
	switch {
	case err != nil:
		h.fail(w, fmt.Errorf("running %s again: %w", arn, err))
		return
	case aws.ToString(again.ExecutionArn) != arn:
		h.fail(w, fmt.Errorf("running %s again made %s", arn, aws.ToString(again.ExecutionArn)))
		return
	}
	h.redriven[arn], h.stale[arn] = token, true
	json.NewEncoder(w).Encode(map[string]any{"redriveDate": float64(time.Now().UnixMilli()) / 1000})
}

func (h *redriveStandIn) fail(w http.ResponseWriter, err error) {
	h.errs = append(h.errs, err)
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func (h *redriveStandIn) redrives() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// A chunk that fails (its command exits 3, once) fails the execution:
// --attach exits 1 naming --redrive; --attach --redrive redrives it (the
// stand-in above, as moto has no RedriveExecution), waits out a stale
// status, follows it to its end and collects the merged video: every
// frame. --redrive on the execution that succeeded redrives nothing and
// collects again.
func TestRunAWSStepFunctionsRedrive(t *testing.T) {
	r := startSFN(t, 3, "fail-30")
	h := startRedriveStandIn(t, r.srv)
	arn := r.detach(t)

	events, stderr := runEvents(t, 1, append(r.args, "--attach", arn)...)
	if execs := eventsOf(events, "execution"); len(execs) == 0 || execs[len(execs)-1]["state"] != "failed" {
		t.Fatalf("the execution events of --attach: %v, want it failed\n%s", execs, stderr)
	}
	if !r.v.happened("fail-30") || !strings.Contains(stderr, "--redrive") {
		t.Errorf("--attach said:\n%s\nwant the failed execution, and --redrive named", stderr)
	}

	events, stderr = runEvents(t, 0, append(r.args, "--attach", arn, "--redrive")...)
	execs := eventsOf(events, "execution")
	if len(execs) == 0 || execs[len(execs)-1]["state"] != "succeeded" || execs[len(execs)-1]["succeeded"] != 3.0 {
		t.Errorf("the execution events of --attach --redrive: %v, want succeeded with 3 chunks\n%s", execs, stderr)
	}
	for _, e := range execs {
		if e["state"] == "failed" {
			t.Errorf("--attach --redrive showed the status from before the redrive: %v", e)
		}
	}
	if calls := h.redrives(); len(calls) != 1 || calls[0] != arn || !strings.Contains(stderr, "redrove execution "+arn) {
		t.Errorf("RedriveExecution calls %v, and run said:\n%s\nwant one, of %s", calls, stderr, arn)
	}
	checkAllFrames(t, r.v)

	_, stderr = runEvents(t, 0, append(r.args, "--attach", arn, "--redrive")...)
	if calls := h.redrives(); len(calls) != 1 || !strings.Contains(stderr, "succeeded, not failed: nothing to redrive") {
		t.Errorf("--redrive of the execution that succeeded: RedriveExecution calls %v, and run said:\n%s\nwant none more", calls, stderr)
	}
	checkAllFrames(t, r.v)
}
