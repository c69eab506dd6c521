package awslambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

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
// contract.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return marshal(h.Respond(ctx, payload)), nil
}

// Respond is Invoke before serialisation. A panic anywhere below it is
// recovered into the contract's 500 answer.
func (h *Handler) Respond(ctx context.Context, payload []byte) (resp Response) {
	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			resp = messageResponse(500, worker.KindWorker, fmt.Sprintf("internal error: %v", v))
		}
	}()
	if mreq, err := jobspec.DecodeMergeRequest(payload); !errors.Is(err, jobspec.ErrNotMerge) {
		return h.merge(ctx, mreq, err)
	}
	req, err := jobspec.DecodeRequest(payload)
	if err != nil {
		slog.WarnContext(ctx, "invalid payload", "error", err)
		return decodeError(err)
	}
	ctx, cancel := h.beforeDeadline(ctx)
	defer cancel()
	slog.DebugContext(ctx, "invocation", "jobPath", clip(req.JobPath), "chunkIndex", req.ChunkIndex) // the worker logs the outcome at info
	res := h.w.Run(ctx, req)
	if errors.Is(res.Err, worker.ErrJobPathNotAllowed) {
		slog.WarnContext(ctx, "job path refused", "error", res.Err.Error())
	}
	return resultResponse(res)
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
