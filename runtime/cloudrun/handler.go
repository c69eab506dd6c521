package cloudrun

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// bodyReadTimeout bounds the time a client may take to send its body, so
// that a stalled client holds no more than its own connection.
const bodyReadTimeout = 15 * time.Second

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
			writeMessage(rw, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", v))
		}
	}()
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		writeMessage(rw, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	body, status, msg := h.readBody(rw, r)
	if status != 0 {
		slog.WarnContext(ctx, "request body refused", "error", msg, "status", status)
		writeMessage(rw, status, msg)
		return
	}
	req, err := worker.DecodeRequest(body)
	if err != nil {
		slog.WarnContext(ctx, "invalid payload", "error", err)
		msg := msgMissing
		if errors.Is(err, worker.ErrPayloadSyntax) {
			msg = msgJSON
		}
		writeMessage(rw, http.StatusBadRequest, msg)
		return
	}
	slog.InfoContext(ctx, "invocation", "jobPath", req.JobPath, "chunkIndex", req.ChunkIndex)
	res := h.w.Run(ctx, req)
	if r.Context().Err() != nil {
		slog.WarnContext(ctx, "request ended before its chunk", "error", res.Message())
	}
	status, b := resultBody(res)
	writeJSON(rw, status, b)
}

// readBody reads the whole body within the size limit and bodyReadTimeout.
// On failure it returns the status and the message to answer with.
func (h *Handler) readBody(rw http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	rc := http.NewResponseController(rw)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	// Clear the deadline before the chunk runs: the server's background
	// read, which notices a client that goes away, would take its expiry
	// for a broken connection and cancel the chunk.
	defer rc.SetReadDeadline(time.Time{}) //nolint:errcheck // unsupported only on non-net conns

	limit := h.w.Config().BodyLimit
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return body, 0, ""
	case errors.As(err, &maxErr):
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes (%s)", limit, worker.EnvBodyLimit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, fmt.Sprintf("Request body not received within %v", bodyReadTimeout)
	}
	return nil, http.StatusBadRequest, msgJSON
}
