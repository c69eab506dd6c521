package cloudrun

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Handler serves the contract's HTTP table with a worker.
type Handler struct {
	w       *worker.Worker
	project string // Google Cloud project, for trace log fields
}

// NewHandler returns the handler that [Serve] serves. It answers POST on
// any path. project is the Google Cloud project id used to link logs to
// traces; "" leaves the link out.
func NewHandler(w *worker.Worker, project string) *Handler {
	return &Handler{w: w, project: project}
}

func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	ctx := withTrace(r.Context(), h.project, r.Header.Get("X-Cloud-Trace-Context"))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			slog.ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v))
			writeMessage(rw, http.StatusInternalServerError, worker.KindWorker, fmt.Sprintf("internal error: %v", v))
		}
	}()
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		writeMessage(rw, http.StatusMethodNotAllowed, worker.KindPayload, msgMethod)
		return
	}
	body, status, msg := h.readBody(rw, r)
	if status != 0 {
		slog.WarnContext(ctx, "request body refused", "error", msg, "status", status)
		kind := worker.KindPayload
		if status == http.StatusRequestTimeout { // the body did not come: the network's doing
			kind = worker.KindStore
		}
		writeMessage(rw, status, kind, msg)
		return
	}
	req, err := jobspec.DecodeRequest(body)
	if err != nil {
		slog.WarnContext(ctx, "invalid payload", "error", err)
		msg := msgMissing
		switch {
		case errors.Is(err, jobspec.ErrPayloadSyntax):
			msg = msgJSON
		case errors.Is(err, jobspec.ErrAmbiguousJSON), errors.Is(err, jobspec.ErrChunkIndexRange),
			errors.Is(err, jobspec.ErrAttempt), errors.Is(err, jobspec.ErrFailAsError):
			msg = "Invalid payload: " + err.Error()
		}
		writeMessage(rw, worker.StatusOf(err), worker.KindPayload, msg)
		return
	}
	slog.DebugContext(ctx, "invocation", "jobPath", req.JobPath, "chunkIndex", req.ChunkIndex) // the worker logs the outcome at info
	res := h.w.Run(ctx, req)
	if errors.Is(res.Err, worker.ErrJobPathNotAllowed) {
		slog.WarnContext(ctx, "job path refused", "error", res.Err.Error())
	}
	if r.Context().Err() != nil {
		slog.WarnContext(ctx, "request ended before its chunk", "error", res.Message())
	}
	status, b := resultBody(res)
	writeJSON(rw, status, b)
}

// readBody reads the whole body within Config.BodyLimit and BodyTimeout.
// On failure it returns the status and the message to answer with, and
// marks the connection to be closed: its unread rest cannot be trusted.
func (h *Handler) readBody(rw http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	rc := http.NewResponseController(rw)
	cfg := h.w.Config()
	_ = rc.SetReadDeadline(time.Now().Add(cfg.BodyTimeout)) // unsupported only on non-net conns
	limit := cfg.BodyLimit
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, limit))
	if err == nil {
		// Clear the deadline before the chunk runs: the server's
		// background read, which notices a client that goes away, would
		// take its expiry for a broken connection and cancel the chunk.
		_ = rc.SetReadDeadline(time.Time{})
		return body, 0, ""
	}
	// Keep the deadline: after the handler, the server drains what is
	// left of the body, and a stalled client must not hold that forever.
	rw.Header().Set("Connection", "close")
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes (%s)", limit, worker.EnvBodyLimit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, fmt.Sprintf("Request body not received within %v (%s)", cfg.BodyTimeout, worker.EnvBodyTimeout)
	}
	return nil, http.StatusBadRequest, msgJSON
}
