package awslambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/internal/wiretest"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// decodeWire decodes a serialised response strictly.
func decodeWire(t *testing.T, wire []byte) (int, Body) {
	t.Helper()
	var resp Response
	dec := json.NewDecoder(bytes.NewReader(wire))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("response: %v", err)
	}
	var b Body
	dec = json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("body: %v", err)
	}
	return resp.StatusCode, b
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestResultResponseFits feeds resultResponse outputs that grow when
// escaped twice: the serialised response must fit in MaxResponseBytes,
// keep a valid UTF-8 tail of each stream, and flag what it cut.
func TestResultResponseFits(t *testing.T) {
	t.Parallel()
	mixed := strings.Repeat("é€😀a", 600_000) // 10 bytes a round, cut anywhere
	for _, tc := range []struct {
		name           string
		stdout, stderr string
		wasTruncated   bool // StdoutTruncated set by the capture
		wantCut        bool // the response must cut stdout
	}{
		{name: "small", stdout: "hello <&> \u2028\n", stderr: "warn\n"},
		{name: "small, already cut by the capture", stdout: "tail\n", wasTruncated: true},
		{name: "1 MiB of NUL (7x)", stdout: strings.Repeat("\x00", 1<<20), wantCut: true},
		{name: "2 MB of quotes and backslashes (4x)", stdout: strings.Repeat(`"\`, 1_000_000), wantCut: true},
		{name: "1 MiB of invalid UTF-8 (7x)", stdout: strings.Repeat("\xff", 1<<20), wantCut: true},
		{name: "2.7 MB of U+2028 (7/3x)", stdout: strings.Repeat("\u2028", 900_000), wantCut: true},
		{name: "6 MB of multi-byte characters", stdout: mixed, wantCut: true},
		{name: "both streams 1 MiB of NUL", stdout: strings.Repeat("\x00", 1<<20), stderr: strings.Repeat("\x01", 1<<20), wantCut: true},
		{name: "3.5 MB of ASCII on each stream", stdout: strings.Repeat("o", 3_500_000), stderr: strings.Repeat("e", 3_500_000), wantCut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &worker.Result{Started: true, ExitCode: 2, Stdout: []byte(tc.stdout), Stderr: []byte(tc.stderr),
				StdoutTruncated: tc.wasTruncated, Duration: 1500 * time.Millisecond}
			wire := marshal(resultResponse(r))
			if len(wire) > MaxResponseBytes {
				t.Fatalf("response of %d bytes, over MaxResponseBytes (%d)", len(wire), MaxResponseBytes)
			}
			status, b := decodeWire(t, wire)
			if status != 500 || b.ExitCode == nil || *b.ExitCode != 2 || b.Message != "chunk command exited with code 2" || b.DurationMs != 1500 {
				t.Errorf("status %d, body %+v: want 500, exit code 2, its message and durationMs", status, b)
			}
			out, errOut := deref(b.Output), deref(b.Stderr)
			for _, s := range []struct{ name, got, orig string }{{"output", out, tc.stdout}, {"stderr", errOut, tc.stderr}} {
				if !utf8.ValidString(s.got) {
					t.Errorf("%s is not valid UTF-8", s.name)
				}
				if utf8.ValidString(s.orig) && !strings.HasSuffix(s.orig, s.got) {
					t.Errorf("%s (%d bytes) is not a tail of what the chunk printed", s.name, len(s.got))
				}
			}
			if cut := len(out) < len(tc.stdout); cut != tc.wantCut && utf8.ValidString(tc.stdout) {
				t.Errorf("stdout cut: %v, want %v", cut, tc.wantCut)
			}
			if b.OutputTruncated != (tc.wasTruncated || tc.wantCut) {
				t.Errorf("outputTruncated %v, want %v", b.OutputTruncated, tc.wasTruncated || tc.wantCut)
			}
			if b.StderrTruncated != (len(errOut) < len(tc.stderr)) {
				t.Errorf("stderrTruncated %v with %d of %d bytes kept", b.StderrTruncated, len(errOut), len(tc.stderr))
			}
			if !tc.wantCut && out != tc.stdout {
				t.Errorf("output %q, want %q", out, tc.stdout)
			}
			if len(out)+len(errOut) == 0 {
				t.Errorf("kept none of %d+%d bytes: want the last ~%d bytes kept",
					len(tc.stdout), len(tc.stderr), MaxResponseBytes/7)
			}
		})
	}
}

// sha256Hex is the SHA-256 of "x\n", as an answer carries one.
const sha256Hex = "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"

func TestResultResponseOutput(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    worker.Result
		want string
	}{
		{"uploaded", worker.Result{Started: true, OutputURL: "s3://renders/out/chunk_3.mp4", OutputBytes: 2048, OutputSHA256: sha256Hex},
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"outputUrl\":\"s3://renders/out/chunk_3.mp4\",\"outputBytes\":2048,\"outputSha256\":\"` + sha256Hex + `\"}"}`},
		{"uploaded, empty", worker.Result{Started: true, OutputURL: "s3://renders/out/empty", OutputBytes: 0},
			`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"outputUrl\":\"s3://renders/out/empty\",\"outputBytes\":0}"}`},
		{"upload failed", worker.Result{Started: true, Err: errors.New("uploading x to s3://b/x: access denied")},
			`{"statusCode":500,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"message\":\"uploading x to s3://b/x: access denied\",\"errorKind\":\"store\"}"}`},
		{"upload refused", worker.Result{Started: true, Err: fmt.Errorf("uploading x to s3://b/x: %w", store.ErrAccessDenied)},
			`{"statusCode":500,"body":"{\"exitCode\":0,\"output\":\"\",\"stderr\":\"\",\"message\":\"uploading x to s3://b/x: access denied\",\"errorKind\":\"not-allowed\"}"}`},
		{"command failed", worker.Result{Started: true, ExitCode: 3},
			`{"statusCode":500,"body":"{\"exitCode\":3,\"output\":\"\",\"stderr\":\"\",\"message\":\"chunk command exited with code 3\",\"errorKind\":\"failed\"}"}`},
	} {
		if got := marshal(resultResponse(&tc.r)); string(got) != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestResultResponseNotStarted(t *testing.T) {
	_, err := (&jobspec.Spec{}).Chunk(9)
	wire := marshal(resultResponse(&worker.Result{Err: err}))
	if want := `{"statusCode":500,"body":"{\"message\":\"Chunk with ID 9 not found in job spec\",\"errorKind\":\"spec\"}"}`; string(wire) != want {
		t.Errorf("got  %s\nwant %s", wire, want)
	}
}

func TestResultResponseJobPathNotAllowed(t *testing.T) {
	cfg := worker.DefaultConfig()
	cfg.AllowedJobPaths = []string{"s3://jobs/"}
	wire := marshal(resultResponse(&worker.Result{Err: cfg.CheckJobPath("s3://other/x.json")}))
	want := `{"statusCode":403,"body":"{\"message\":\"job path \\\"s3://other/x.json\\\" is outside HELIOS_ALLOWED_JOB_PATHS (s3://jobs/)\",\"errorKind\":\"not-allowed\"}"}`
	if string(wire) != want {
		t.Errorf("got  %s\nwant %s", wire, want)
	}
}

func TestCutFront(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 0, "hello"},
		{"hello", 2, "llo"},
		{"hello", 5, ""},
		{"hello", 9, ""},
		{"héllo", 2, "llo"}, // the cut falls inside é
		{"a€b", 2, "b"},     // inside €, 3 bytes
		{"a€b", 3, "b"},
		{"😀x", 1, "x"}, // inside a 4-byte character
		{"😀x", 3, "x"},
		{"\xff\xfex", 1, "\xfex"}, // not UTF-8 to begin with: only continuation bytes go
	} {
		if got := string(cutFront([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("cutFront(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestMarshalDoesNotEscapeHTML(t *testing.T) {
	got := string(marshal(encode(200, &Body{Message: "<a & b>"})))
	if want := `{"statusCode":200,"body":"{\"message\":\"<a & b>\"}"}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// newTestHandler is a handler whose worker runs in a temporary workspace
// root and logs nowhere.
func newTestHandler(t *testing.T, margin time.Duration, opts ...worker.Option) (*Handler, string) {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.TimeoutMargin = margin
	opts = append([]worker.Option{worker.WithPassthrough(io.Discard, io.Discard),
		worker.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	return NewHandler(worker.New(cfg, opts...)), cfg.WorkspaceRoot
}

func writeJob(t *testing.T, commands ...string) string {
	t.Helper()
	s := jobspec.Spec{ID: "unit"}
	for i, c := range commands {
		s.Chunks = append(s.Chunks, jobspec.Chunk{ID: int64(i), Command: c})
	}
	data, _ := json.Marshal(s)
	path := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func event(jobPath string, chunk int) []byte {
	b, _ := json.Marshal(map[string]any{"jobPath": jobPath, "chunkIndex": chunk})
	return b
}

type panicSource struct{}

func (panicSource) Open(context.Context, string) (io.ReadCloser, error) { panic("source exploded") }

// TestRespondRecoversPanic: a panic below the handler becomes the
// contract's 500, and Invoke still returns no error.
func TestRespondRecoversPanic(t *testing.T) {
	h, _ := newTestHandler(t, time.Second, worker.WithSource("panic", panicSource{}))
	payload := []byte(`{"jobPath":"panic://x","chunkIndex":0}`)
	resp := h.Respond(context.Background(), payload)
	if resp.StatusCode != 500 || resp.Body != `{"message":"internal error: source exploded","errorKind":"worker"}` {
		t.Errorf("Respond = %+v", resp)
	}
	wire, err := h.Invoke(context.Background(), payload)
	if err != nil || !json.Valid(wire) {
		t.Errorf("Invoke = %s, %v", wire, err)
	}
}

// TestRespondDeadlineMargin: with a deadline on the context, as Lambda
// gives, the chunk is killed TimeoutMargin before it, with ErrTimeout's
// message, its partial output, and exit code -1. The margin is the time
// the handler has to answer in after the kill: wide, for a loaded machine.
func TestRespondDeadlineMargin(t *testing.T) {
	t.Parallel()
	const sleep = "3701.19" // an hour: the kill, not the chunk, ends it
	const margin = 4 * time.Second
	h, root := newTestHandler(t, margin)
	job := writeJob(t, `sh -c 'echo partial; sleep `+sleep+`'`)
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		min, max time.Duration // when the answer must come
	}{
		// Killed at the deadline less the margin, answered before the
		// deadline, as Lambda requires.
		{"8s deadline, 4s margin", 8 * time.Second, 3800 * time.Millisecond, 8 * time.Second},
		// Killed at once: the bound only says the chunk did not end it.
		{"deadline within the margin", time.Second, 0, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			start := time.Now()
			status, b := decodeWire(t, marshal(h.Respond(ctx, event(job, 0))))
			elapsed := time.Since(start)
			if elapsed < tc.min || elapsed > tc.max {
				t.Errorf("answered after %v, want between %v and %v", elapsed, tc.min, tc.max)
			}
			if status != 500 || b.ExitCode == nil || *b.ExitCode != -1 {
				t.Fatalf("status %d, body %+v: want 500 and exit code -1", status, b)
			}
			if !strings.HasPrefix(b.Message, worker.ErrTimeout.Error()) || !strings.Contains(b.Message, "before the Lambda deadline") {
				t.Errorf("message %q", b.Message)
			}
			if tc.min > 0 && deref(b.Output) != "partial\n" {
				t.Errorf("output %q, want the partial output", deref(b.Output))
			}
		})
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("workspaces left behind: %v", entries)
	}
}

// TestRespondWithoutDeadline: no deadline on the context, no margin cut.
func TestRespondWithoutDeadline(t *testing.T) {
	h, _ := newTestHandler(t, time.Hour)
	resp := h.Respond(context.Background(), event(writeJob(t, "echo ok"), 0))
	if status, b := decodeWire(t, marshal(resp)); status != 200 || deref(b.Output) != "ok\n" {
		t.Errorf("status %d, body %+v", status, b)
	}
}

// TestRespondHugeMessage: a reason that quotes the input (a long jobPath,
// a long command name) must be clipped: the request may be 6 MB, and a
// reason quoting it twice would push the response past Lambda's limit,
// where Lambda replaces it with Function.ResponseSizeTooLarge.
func TestRespondHugeMessage(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t, time.Second)
	longPath := filepath.Join(t.TempDir(), strings.Repeat("p", 300_000))
	longCommand := writeJob(t, strings.Repeat("c", 300_000))
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"300 KB jobPath that does not exist", event(longPath, 0)},
		{"300 KB command name not found", event(longCommand, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := h.Invoke(context.Background(), tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			status, b := decodeWire(t, wire)
			if status != 500 || b.Message == "" {
				t.Fatalf("status %d, message %.100q", status, b.Message)
			}
			if len(wire) > MaxResponseBytes || len(b.Message) > 8192 || !utf8.ValidString(b.Message) {
				t.Errorf("a %d-byte response with a %d-byte message: want the message clipped, and the response "+
					"far under Lambda's 6,291,556 bytes (over it, Lambda answers Function.ResponseSizeTooLarge)",
					len(wire), len(b.Message))
			}
		})
	}
}

// The statusCode of every answer is the worker's one status for its
// Result (worker.Result.Status) or its payload error (worker.StatusOf),
// which the Cloud Run answer and fanout's local target share.
func TestResultResponseStatus(t *testing.T) {
	ambiguous := wiretest.AmbiguousSpec()
	for _, tc := range wiretest.StatusCases() {
		resp := resultResponse(&tc.Result)
		if resp.StatusCode != tc.Status || resp.StatusCode != tc.Result.Status() {
			t.Errorf("%s: statusCode %d, want %d (Result.Status %d)", tc.Name, resp.StatusCode, tc.Status, tc.Result.Status())
		}
	}
	// The wire of a 400 for an ambiguous spec is as it was.
	want := `{"statusCode":400,"body":"{\"message\":\"decoding job spec: ambiguous JSON: key \\\"id\\\" appears twice\",\"errorKind\":\"spec\"}"}`
	if got := string(marshal(resultResponse(&worker.Result{Err: ambiguous}))); got != want {
		t.Errorf("ambiguous spec:\ngot  %s\nwant %s", got, want)
	}
	for _, payload := range []string{``, `[]`, `{"jobPath":"x"}`, `{"jobPath":"x","chunkIndex":1e400}`, `{"jobPath":"x","jobPath":"y","chunkIndex":0}`} {
		_, err := jobspec.DecodeRequest([]byte(payload))
		if resp := decodeError(err); resp.StatusCode != 400 || resp.StatusCode != worker.StatusOf(err) {
			t.Errorf("payload %q: statusCode %d, want 400 (StatusOf %d)", payload, resp.StatusCode, worker.StatusOf(err))
		}
	}
}
