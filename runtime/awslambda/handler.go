package awslambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Handler answers Lambda invocations with a worker. It implements the
// aws-lambda-go lambda.Handler interface: Invoke takes the raw event and
// returns the serialised [Response], and its error is always nil.
type Handler struct {
	w *worker.Worker
}

// NewHandler returns the handler that [Start] serves.
func NewHandler(w *worker.Worker) *Handler { return &Handler{w: w} }

// Invoke runs the chunk that payload names and answers per the contract.
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
