package awslambda_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestMain removes the emulator and bootstrap that the end-to-end tests
// build (once, on first use) into a temporary directory. The handler logs
// to slog's default logger, which the in-process tests silence.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	code := m.Run()
	lambdatest.RemoveBuild()
	os.Exit(code)
}

// Contract messages, quoted from CONTRACT.md.
const (
	msgNotObject = "Invalid payload: must be an object"
	msgFields    = "Invalid payload: missing jobPath or chunkIndex"
	msgNoChunks  = "Invalid JobSpec: missing chunks array"
)

// lambdaLimit is Lambda's synchronous response limit.
const lambdaLimit = 6_291_556

// binaries builds the emulator and the bootstrap, once per test binary.
func binaries(t *testing.T) lambdatest.Binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with the Lambda emulator: skipped in -short mode")
	}
	b, err := lambdatest.BuildT(t)
	if errors.Is(err, lambdatest.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// killOnCleanup kills, when t ends, the processes with this argv that a
// failing test may have left running.
func killOnCleanup(t *testing.T, argv ...string) {
	t.Cleanup(func() {
		for _, pid := range lambdatest.ProcessesWithArgs(argv...) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// writeSpec writes a job spec (any JSON value) to dir/name.
func writeSpec(t *testing.T, dir, name string, spec any) string {
	t.Helper()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// spec is a job spec with the given chunk commands, by chunk id.
func spec(id string, commands map[int64]string) jobspec.Spec {
	s := jobspec.Spec{ID: id, Metadata: jobspec.Metadata{TotalFrames: 100, FPS: 25, Width: 64, Height: 64, Duration: 4}}
	ids := make([]int64, 0, len(commands))
	for id := range commands {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.Chunks = append(s.Chunks, jobspec.Chunk{
			ID: id, StartFrame: id * 25, FrameCount: 25,
			OutputFile: "chunk_" + itoa(id) + ".mp4", Command: commands[id],
		})
	}
	return s
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// response is a Lambda answer whose shape has been checked.
type response struct {
	Status int
	Body   awslambda.Body
	// Keys are the body's keys, sorted, without the additional ones
	// (durationMs, the truncation flags, errorKind and renderer, which check checks
	// on its own).
	Keys []string
}

var additional = []string{"durationMs", "outputTruncated", "stderrTruncated", "errorKind", "renderer"}

// decodeResponse checks that payload is exactly {"statusCode": int,
// "body": "<JSON object>"} and decodes it.
func decodeResponse(t *testing.T, payload []byte) response {
	t.Helper()
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(payload, &outer); err != nil {
		t.Fatalf("payload is not a JSON object: %v: %.300q", err, payload)
	}
	if len(outer) != 2 || outer["statusCode"] == nil || outer["body"] == nil {
		t.Fatalf("payload keys: want statusCode and body only: %.300s", payload)
	}
	var r response
	if err := json.Unmarshal(outer["statusCode"], &r.Status); err != nil {
		t.Fatalf("statusCode is not an integer: %s", outer["statusCode"])
	}
	var body string
	if err := json.Unmarshal(outer["body"], &body); err != nil {
		t.Fatalf("body is not a JSON string: %v: %.300s", err, outer["body"])
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &keys); err != nil {
		t.Fatalf("body does not hold a JSON object: %v: %.300q", err, body)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.Body); err != nil {
		t.Fatalf("body has an unexpected field or type: %v: %.300q", err, body)
	}
	for k := range keys {
		if !slices.Contains(additional, k) {
			r.Keys = append(r.Keys, k)
		}
	}
	slices.Sort(r.Keys)
	return r
}

// Key sets of the contract's rows.
var (
	keysSuccess = []string{"exitCode", "output", "stderr"}
	keysExit    = []string{"exitCode", "message", "output", "stderr"}
	keysMessage = []string{"message"}
)

// want is a row of the contract's Lambda table.
type want struct {
	status         int
	keys           []string
	exitCode       int
	output, stderr string
	outputPrefix   string   // instead of output
	message        string   // exact, when set
	contains       []string // substrings of the message
	// kind is the errorKind, when set; any answer but a 200 must give
	// one.
	kind worker.Kind
}

// check asserts that inv is the answer w describes, both in the raw
// payload and in lambdacaller's reading of it, and that it is not a
// FunctionError.
func check(t *testing.T, inv lambdatest.Invocation, w want) response {
	t.Helper()
	if inv.FunctionError != "" {
		t.Fatalf("FunctionError %q: %.500s", inv.FunctionError, inv.Payload)
	}
	if inv.Err != nil {
		t.Fatalf("lambdacaller: %v", inv.Err)
	}
	r := decodeResponse(t, inv.Payload)
	if r.Status != w.status {
		t.Errorf("statusCode %d, want %d (body %+v)", r.Status, w.status, r.Body)
	}
	if !slices.Equal(r.Keys, w.keys) {
		t.Errorf("body keys %q, want %q", r.Keys, w.keys)
	}
	b := r.Body
	if slices.Contains(w.keys, "exitCode") && (b.ExitCode == nil || *b.ExitCode != w.exitCode) {
		t.Errorf("exitCode %v, want %d", deref(b.ExitCode), w.exitCode)
	}
	if w.outputPrefix != "" {
		if !strings.HasPrefix(deref(b.Output), w.outputPrefix) {
			t.Errorf("output %.200q, want it to start with %q", deref(b.Output), w.outputPrefix)
		}
	} else if slices.Contains(w.keys, "output") && deref(b.Output) != w.output {
		t.Errorf("output %.200q, want %.200q", deref(b.Output), w.output)
	}
	if slices.Contains(w.keys, "stderr") && deref(b.Stderr) != w.stderr {
		t.Errorf("stderr %.200q, want %.200q", deref(b.Stderr), w.stderr)
	}
	if w.message != "" && b.Message != w.message {
		t.Errorf("message %q, want %q", b.Message, w.message)
	}
	for _, s := range w.contains {
		if !strings.Contains(b.Message, s) {
			t.Errorf("message %q does not contain %q", b.Message, s)
		}
	}
	if strings.ContainsRune(b.Message, '\n') {
		t.Errorf("message %q is not one line", b.Message)
	}
	switch {
	case r.Status == 200 && b.ErrorKind != "":
		t.Errorf("errorKind %q in a success", b.ErrorKind)
	case r.Status != 200 && b.ErrorKind == "":
		t.Errorf("no errorKind with status %d", r.Status)
	case w.kind != "" && b.ErrorKind != w.kind:
		t.Errorf("errorKind %q, want %q", b.ErrorKind, w.kind)
	}
	c := inv.Result
	if c.StatusCode != r.Status || c.Message != b.Message || c.Stdout != deref(b.Output) || c.ErrorKind != string(b.ErrorKind) ||
		c.Stderr != deref(b.Stderr) || c.HasExitCode != (b.ExitCode != nil) ||
		(b.ExitCode != nil && c.ExitCode != *b.ExitCode) || c.OK() != (r.Status == 200) {
		t.Errorf("lambdacaller read %+v from %+v", *c, b)
	}
	return r
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkEmpty fails unless dir holds nothing.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the workspace root: %s", e.Name())
	}
}

// jsonLines returns the lines of out that are JSON objects.
func jsonLines(out string) []map[string]any {
	var lines []map[string]any
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

// oneLine reports whether s is exactly one newline-terminated line.
func oneLine(s []byte) bool {
	return len(s) > 0 && bytes.IndexByte(s, '\n') == len(s)-1
}
