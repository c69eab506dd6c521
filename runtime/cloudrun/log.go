package cloudrun

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// traceKey is the Cloud Logging field that links a line to a trace.
const traceKey = "logging.googleapis.com/trace"

type traceCtxKey struct{}

// withTrace puts the trace named by an X-Cloud-Trace-Context header
// (TRACE_ID/SPAN_ID;o=1) on ctx, as Cloud Logging wants it:
// projects/PROJECT/traces/TRACE_ID.
func withTrace(ctx context.Context, project, header string) context.Context {
	if header == "" || project == "" {
		return ctx
	}
	id, _, _ := strings.Cut(header, "/")
	if id == "" || strings.ContainsAny(id, " ;") {
		return ctx
	}
	return context.WithValue(ctx, traceCtxKey{}, "projects/"+project+"/traces/"+id)
}

// NewLogHandler returns a slog handler that writes one JSON object a line
// to w in Cloud Logging's shape: severity (DEBUG, INFO, WARNING, ERROR),
// message, time, and logging.googleapis.com/trace for lines logged with
// a request's context.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return traceHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: cloudAttr})}
}

func cloudAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = "message"
	case slog.LevelKey:
		a.Key = "severity"
		level, _ := a.Value.Any().(slog.Level)
		switch {
		case level >= slog.LevelError:
			a.Value = slog.StringValue("ERROR")
		case level >= slog.LevelWarn:
			a.Value = slog.StringValue("WARNING")
		case level >= slog.LevelInfo:
			a.Value = slog.StringValue("INFO")
		default:
			a.Value = slog.StringValue("DEBUG")
		}
	}
	return a
}

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if t, ok := ctx.Value(traceCtxKey{}).(string); ok {
		r.AddAttrs(slog.String(traceKey, t))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
