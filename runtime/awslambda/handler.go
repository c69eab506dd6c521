package awslambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// Handler answers Lambda invocations with a worker. It implements the
// aws-lambda-go lambda.Handler interface: Invoke takes the raw event and
// returns the serialised [Response], and its error is always nil.
type Handler struct {
	w *worker.Worker
}

// NewHandler returns the handler that [Start] serves.
func NewHandler(w *worker.Worker) *Handler { return &Handler{w: w} }

// Invoke runs the chunk that payload names, or the merge it asks for
// ("action": "merge", package runtime/worker/merge), and answers per the
// contract. When the payload asks for it ("failAsError": true, as the
// scaffolded state machine does), a chunk or merge that failed is raised
// as a function error instead: [FailedChunk] or [FailedMerge], with the
// answer's body as its message.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, raise := h.respond(ctx, payload)
	if raise != "" && resp.StatusCode != 200 {
		return nil, messages.InvokeResponse_Error{Type: raise, Message: resp.Body}
	}
	return marshal(resp), nil
}

// The error types that Invoke raises for a payload with failAsError.
const (
	FailedChunk = "Helios.ChunkFailed"
	FailedMerge = "Helios.MergeFailed"
)

// Respond is Invoke before serialisation, and without failAsError: it
// answers. A panic anywhere below it is recovered into the contract's
// 500 answer.
func (h *Handler) Respond(ctx context.Context, payload []byte) Response {
	resp, _ := h.respond(ctx, payload)
	return resp
}

// respond is Respond, and the error type to raise a failure as when the
// payload asks for that ("" when it does not).
func (h *Handler) respond(ctx context.Context, payload []byte) (resp Response, raise string) {
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp = messageResponse(500, worker.KindWorker, fmt.Sprintf("internal error: %v", v))
		}
	}()
	if mreq, err := jobspec.DecodeMergeRequest(payload); !errors.Is(err, jobspec.ErrNotMerge) {
		if mreq.FailAsError {
			raise = FailedMerge
		}
		return h.merge(ctx, mreq, err), raise
	}
	req, err := jobspec.DecodeRequest(payload)
	if err != nil {
		slog.WarnContext(ctx, "invalid payload", "error", err)
		return decodeError(err), ""
	}
	if req.FailAsError {
		raise = FailedChunk
	}
	ctx, cancel := h.beforeDeadline(ctx)
	defer cancel()
	slog.DebugContext(ctx, "invocation", "jobPath", clip(req.JobPath), "chunkIndex", req.ChunkIndex) // the worker logs the outcome at info
	res := h.w.Run(ctx, req)
	if errors.Is(res.Err, worker.ErrJobPathNotAllowed) {
		slog.WarnContext(ctx, "job path refused", "error", res.Err.Error())
	}
	return resultResponse(res), raise
}

// merge answers a payload that names an action: a merge of the job's
// chunks (package runtime/worker/merge), or the 400 of a bad one.
func (h *Handler) merge(ctx context.Context, req jobspec.MergeRequest, err error) Response {
	if err != nil {
		slog.WarnContext(ctx, "invalid merge payload", "error", err)
		return decodeError(err)
	}
	ctx, cancel := h.beforeDeadline(ctx)
	defer cancel()
	slog.DebugContext(ctx, "merge invocation", "jobPath", clip(req.JobPath), "outputs", len(req.Outputs), "resultsUrl", clip(req.ResultsURL))
	res := merge.Run(ctx, h.w, req)
	if errors.Is(res.Err, worker.ErrJobPathNotAllowed) {
		slog.WarnContext(ctx, "job path refused", "error", res.Err.Error())
	}
	return mergeResponse(res)
}

// beforeDeadline returns a context that ends TimeoutMargin before ctx's
// deadline, with a cause that says so, so that the chunk is killed while
// there is still time to answer.
func (h *Handler) beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := h.w.Config().TimeoutMargin
	cause := fmt.Errorf("%w: killed %v before the Lambda deadline (%s)", worker.ErrTimeout, margin, worker.EnvTimeoutMargin)
	return context.WithDeadlineCause(ctx, deadline.Add(-margin), cause)
}
