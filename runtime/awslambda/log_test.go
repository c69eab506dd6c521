package awslambda

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestNewLogHandler: JSON lines in Lambda's shape (timestamp, level,
// message), the invocation's requestId when the context has one, and the
// AWS_LAMBDA_LOG_LEVEL filter.
func TestNewLogHandler(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-42"})
	for _, tc := range []struct {
		level string
		want  []string // the messages that get through, of debug, info, warn, error
	}{
		{"", []string{"info", "warn", "error"}},
		{"TRACE", []string{"debug", "info", "warn", "error"}},
		{"DEBUG", []string{"debug", "info", "warn", "error"}},
		{"INFO", []string{"info", "warn", "error"}},
		{"WARN", []string{"warn", "error"}},
		{"ERROR", []string{"error"}},
		{"FATAL", []string{"error"}},
		{"bogus", []string{"info", "warn", "error"}},
	} {
		t.Run("AWS_LAMBDA_LOG_LEVEL="+tc.level, func(t *testing.T) {
			t.Setenv("AWS_LAMBDA_LOG_LEVEL", tc.level)
			var buf bytes.Buffer
			log := slog.New(NewLogHandler(&buf)).With("k", "v")
			log.DebugContext(ctx, "debug")
			log.InfoContext(ctx, "info")
			log.WarnContext(ctx, "warn")
			log.ErrorContext(ctx, "error")
			var got []string
			for line := range strings.Lines(buf.String()) {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not a JSON line: %q", line)
				}
				for _, k := range []string{"timestamp", "level", "message", "requestId", "k"} {
					if _, ok := m[k].(string); !ok {
						t.Errorf("line without %q: %s", k, line)
					}
				}
				if m["requestId"] != "req-42" {
					t.Errorf("requestId %v, want req-42", m["requestId"])
				}
				if _, ok := m["msg"]; ok {
					t.Errorf("line with slog's msg key: %s", line)
				}
				got = append(got, m["message"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("messages %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewLogHandlerWithoutLambdaContext(t *testing.T) {
	var buf bytes.Buffer
	slog.New(NewLogHandler(&buf)).InfoContext(context.Background(), "hello")
	if s := buf.String(); strings.Contains(s, "requestId") || !strings.Contains(s, `"level":"INFO"`) {
		t.Errorf("got %s", s)
	}
}
