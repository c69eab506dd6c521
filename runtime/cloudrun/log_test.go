package cloudrun_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
)

const (
	traceHeader = "105445aa7843bc8bf206b12000100000/1;o=1"
	traceField  = "logging.googleapis.com/trace"
	traceValue  = "projects/my-proj/traces/105445aa7843bc8bf206b12000100000"
)

// logLines parses every line of out as a JSON object.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("log line is not a JSON object: %q", l)
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// TestLogTrace logs through cloudrun.NewLogHandler as slog's default (so
// it must not run in parallel): request lines carry the trace named by
// X-Cloud-Trace-Context, and none without it.
func TestLogTrace(t *testing.T) {
	var buf syncbuf.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(cloudrun.NewLogHandler(&buf, slog.LevelInfo)))
	t.Cleanup(func() { slog.SetDefault(old) })

	// No WithLogger: the worker logs through slog.Default too.
	e := newEnvWith(t, testConfig(t), "my-proj")
	job := e.spec(t, "echo hi")

	cases := []struct {
		name, body string
		header     []string
		status     int
		trace      string // "" for none
		severity   string // a severity that must appear
	}{
		{"chunk with trace", payload(job, 0), []string{"X-Cloud-Trace-Context", traceHeader}, 200, traceValue, "INFO"},
		{"bad payload with trace", "{", []string{"X-Cloud-Trace-Context", traceHeader}, 400, traceValue, "WARNING"},
		{"chunk without trace", payload(job, 0), nil, 200, "", "INFO"},
		{"bad payload without trace", "{", nil, 400, "", "WARNING"},
		{"malformed header", payload(job, 0), []string{"X-Cloud-Trace-Context", "/1;o=1"}, 200, "", "INFO"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf.Reset()
			r := e.do(t, http.MethodPost, c.body, c.header...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			lines := logLines(t, buf.String())
			if len(lines) == 0 {
				t.Fatal("nothing logged")
			}
			var sevs []string
			for _, m := range lines {
				sev, _ := m["severity"].(string)
				msg, _ := m["message"].(string)
				if sev == "" || msg == "" {
					t.Errorf("line without severity or message: %v", m)
				}
				if _, ok := m["level"]; ok {
					t.Errorf("line still has slog's level key: %v", m)
				}
				sevs = append(sevs, sev)
				got, has := m[traceField]
				switch {
				case c.trace == "" && has:
					t.Errorf("unexpected %s in %v", traceField, m)
				case c.trace != "" && got != c.trace:
					t.Errorf("%s = %v, want %q in %v", traceField, got, c.trace, m)
				}
			}
			if !strings.Contains(strings.Join(sevs, " "), c.severity) {
				t.Errorf("severities %v, want one %s", sevs, c.severity)
			}
		})
	}
}

// TestLogHandlerShape checks the handler alone: severities, levels
// filtered, groups and attributes kept.
func TestLogHandlerShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := slog.New(cloudrun.NewLogHandler(&buf, slog.LevelInfo)).With("svc", "w")
	l.Debug("hidden")
	l.Info("i")
	l.Warn("w")
	l.Error("e", "n", 1)
	l.WithGroup("g").Info("grouped", "level", "x")
	lines := logLines(t, buf.String())
	want := []struct{ sev, msg string }{{"INFO", "i"}, {"WARNING", "w"}, {"ERROR", "e"}, {"INFO", "grouped"}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if lines[i]["severity"] != w.sev || lines[i]["message"] != w.msg || lines[i]["svc"] != "w" {
			t.Errorf("line %d = %v, want severity %s message %s svc w", i, lines[i], w.sev, w.msg)
		}
		if _, ok := lines[i][traceField]; ok {
			t.Errorf("line %d has a trace without a request: %v", i, lines[i])
		}
	}
	if g, _ := lines[3]["g"].(map[string]any); g["level"] != "x" {
		t.Errorf("grouped attribute renamed: %v", lines[3])
	}
}
