package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

type apiError string

func (e apiError) Error() string     { return string(e) }
func (e apiError) ErrorCode() string { return string(e) }

type tempError bool

func (e tempError) Error() string   { return "function failed" }
func (e tempError) Temporary() bool { return bool(e) }

// failure is a worker's answer for a chunk that did not run.
func failure(status int, kind worker.Kind, msg string) *worker.CallResult {
	return &worker.CallResult{StatusCode: status, ErrorKind: string(kind), Message: msg}
}

// ran is a worker's answer for a chunk that ran, exited with code and
// failed.
func ran(code int, kind worker.Kind, msg string) *worker.CallResult {
	return &worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: code, ErrorKind: string(kind), Message: msg}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		res  *worker.CallResult
		err  error
		want outcome
	}{
		{"success", &worker.CallResult{StatusCode: 200, HasExitCode: true}, nil, succeeded},
		{"command failed", &worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: 3}, nil, commandFailed},
		{"chunk killed", &worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: -1}, nil, commandFailed},
		{"429", &worker.CallResult{StatusCode: 429}, nil, transient},
		{"503", &worker.CallResult{StatusCode: 503}, nil, transient},
		{"400", &worker.CallResult{StatusCode: 400, Message: "Missing jobPath or chunkIndex"}, nil, permanent},
		{"403", &worker.CallResult{StatusCode: 403}, nil, permanent},
		{"chunk not found", &worker.CallResult{StatusCode: 500, Message: "Chunk with ID 9 not found in job spec"}, nil, permanent},
		{"access denied", &worker.CallResult{StatusCode: 500, Message: "reading job spec s3://b/j.json: access denied"}, nil, permanent},
		{"store failing", &worker.CallResult{StatusCode: 500, Message: "fetching assets s3://b/a: connection reset"}, nil, transient},
		{"lambda throttled", nil, fmt.Errorf("invoking: %w", apiError("TooManyRequestsException")), transient},
		{"lambda access denied", nil, fmt.Errorf("invoking: %w", apiError("AccessDeniedException")), permanent},
		{"lambda no function", nil, apiError("ResourceNotFoundException"), permanent},
		{"worker killed by the platform", nil, tempError(true), transient},
		{"caller says no", nil, tempError(false), permanent},
		{"connection refused", nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}, transient},
		{"cut answer", nil, fmt.Errorf("reading answer: %w", io.ErrUnexpectedEOF), transient},
		{"malformed", nil, errors.New("malformed worker response: status 200"), permanent},

		// A worker that gives the kind of its failure is judged by it.
		{"executable not found", failure(500, "command", `starting chunk 0 command "x": exec: "x": executable file not found in $PATH`), nil, permanent},
		{"outputFile with a NUL byte", failure(500, "spec", `outputFile "a\x00b" of chunk 0 holds a NUL byte`), nil, permanent},
		{"spec invalid", failure(500, "spec", "decoding job spec: not valid JSON"), nil, permanent},
		{"ambiguous spec", failure(400, "spec", "decoding job spec: ambiguous JSON"), nil, permanent},
		{"bad payload", failure(400, "payload", "Missing jobPath or chunkIndex"), nil, permanent},
		{"not allowed", failure(403, "not-allowed", "job path outside HELIOS_ALLOWED_JOB_PATHS"), nil, permanent},
		{"worker misconfigured", failure(500, "config", "invalid worker configuration"), nil, permanent},
		{"output missing", ran(0, "output", "output file missing"), nil, permanent},
		{"upload refused", ran(0, "not-allowed", "uploading x: access denied"), nil, permanent},
		{"upload failed", ran(0, "store", "uploading x: connection reset"), nil, transient},
		{"spec unreadable", failure(500, "store", "reading job spec s3://b/j.json: connection reset"), nil, transient},
		{"kind over message", failure(500, "store", "reading job spec: access denied, they say"), nil, transient},
		{"no descriptors left", failure(500, "worker", "starting chunk 0: too many open files"), nil, transient},
		{"cancelled", ran(-1, "cancelled", "chunk cancelled"), nil, transient},
		{"command failed, with its kind", ran(3, "failed", "chunk command exited with code 3"), nil, commandFailed},
		{"chunk timeout", ran(-1, "timeout", "chunk timed out after 10m"), nil, commandFailed},
		{"chunk idle", ran(-1, "idle", "chunk 3: no output for 300 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"), nil, transient},
		{"assets timeout", failure(500, "timeout", "chunk timed out: assets took longer than 5m"), nil, transient},
		{"body timeout", failure(408, "store", "Request body not received"), nil, transient},
		{"throttled by the front end", failure(503, "spec", "Service Unavailable"), nil, transient},
		// A kind this runner does not know falls back as an old answer.
		{"unknown kind, exit code", ran(3, "newer", "exited"), nil, commandFailed},
		{"unknown kind, known message", failure(500, "newer", "Chunk with ID 9 not found in job spec"), nil, permanent},
		{"unknown kind", failure(500, "newer", "something new"), nil, transient},
		// An old worker's answer, without a kind.
		{"old worker, executable not found", failure(500, "", `starting chunk 0 command "x": exec: "x": executable file not found in $PATH`), nil, permanent},
		{"old worker, output missing", ran(0, "", "output file missing"), nil, commandFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := classify(context.Background(), tt.res, tt.err); got != tt.want {
				t.Errorf("classify = %v (%s), want %v", got, why, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, _ := classify(ctx, &worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: -1}, nil); got != stopped {
		t.Errorf("a chunk killed because the run stopped: %v, want stopped", got)
	}
	if got, _ := classify(ctx, &worker.CallResult{StatusCode: 200}, nil); got != succeeded {
		t.Errorf("a success as the run stopped: %v, want succeeded", got)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for n, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 80: time.Second} {
		var most time.Duration
		for range 2000 {
			d := b.Delay(n)
			if d < 0 || d > ceil {
				t.Fatalf("Delay(%d) = %v, want within [0, %v]", n, d, ceil)
			}
			most = max(most, d)
		}
		if most < ceil/2 {
			t.Errorf("Delay(%d) never above %v in 2000 draws: not jittered up to %v", n, most, ceil)
		}
	}
}

// An answer with no kind the runner knows (a worker that predates
// errorKind) is judged by its exit code, its status and, for a 5xx
// without an exit code, by legacyFinalTexts alone; an answer with a
// kind is never judged by its text.
func TestClassifyLegacy(t *testing.T) {
	old := func(status int, msg string) *worker.CallResult { return failure(status, "", msg) }
	tests := []struct {
		name string
		res  *worker.CallResult
		want outcome
	}{
		{"chunk not found", old(500, "Chunk with ID 9 not found in job spec"), permanent},
		{"no chunks", old(500, "Invalid JobSpec: missing chunks array"), permanent},
		{"access denied", old(500, "reading job spec s3://b/j.json: access denied"), permanent},
		{"asset outside the workspace", old(500, `fetching assets: key "../x" is outside the workspace`), permanent},
		{"spec a folder", old(500, "reading job spec /jobs: not a regular file"), permanent},
		{"spec too large", old(500, "reading job spec: larger than the limit (HELIOS_SPEC_MAX_BYTES)"), permanent},
		{"executable not found", old(500, `exec: "x": executable file not found in $PATH`), permanent},
		{"anything else", old(500, "reading job spec s3://b/j.json: connection reset"), transient},
		{"no message", old(500, ""), transient},
		// A 4xx is final by its status: such a worker answered the
		// jobPath refused with 403 and what could be read two ways with
		// 400, so their texts need no entry.
		{"jobPath refused", old(403, `job path "s3://x" is outside HELIOS_ALLOWED_JOB_PATHS (s3://jobs/)`), permanent},
		{"ambiguous spec", old(400, `decoding job spec: ambiguous JSON: key "id" appears twice`), permanent},
		{"a 5xx is not final by these words", old(500, "not allowed; ambiguous JSON"), transient},
		// The command ran: its exit code decides, whatever the text.
		{"ran, text of a final failure", &worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: 1,
			Message: "access denied"}, commandFailed},
		// A kind decides over every text.
		{"kind store, final text", failure(500, worker.KindStore, "Chunk with ID 9 not found in job spec"), transient},
		{"kind worker, final text", failure(500, worker.KindWorker, "executable file not found"), transient},
		{"kind spec, no text", failure(500, worker.KindSpec, "something new"), permanent},
		// A kind this runner does not know is judged as an old answer.
		{"newer kind, final text", failure(500, "newer", "reading job spec: access denied"), permanent},
		{"newer kind, other text", failure(500, "newer", "reading job spec: connection reset"), transient},
	}
	for _, tc := range tests {
		if got, why := classify(context.Background(), tc.res, nil); got != tc.want {
			t.Errorf("%s: classify = %v (%s), want %v", tc.name, got, why, tc.want)
		}
	}
}

// Each of legacyFinalTexts is a text that the worker's error for it
// says, so that an old worker's answer for that failure holds it.
func TestLegacyFinalTextsAreTheWorkers(t *testing.T) {
	_, notFound := (&jobspec.Spec{}).Chunk(9)
	said := map[string]error{
		"not found in job spec":     notFound,
		"Invalid JobSpec":           jobspec.ErrMissingChunks,
		"access denied":             store.ErrAccessDenied,
		"outside the workspace":     worker.ErrOutsideWorkspace,
		"not a regular file":        store.ErrNotRegular,
		"larger than the limit":     store.ErrTooLarge,
		"executable file not found": exec.ErrNotFound,
	}
	if len(said) != len(legacyFinalTexts) {
		t.Errorf("%d texts, %d errors that say them", len(legacyFinalTexts), len(said))
	}
	for _, text := range legacyFinalTexts {
		err, ok := said[text]
		if !ok || !strings.Contains(err.Error(), text) {
			t.Errorf("%q: not what the worker's error (%v) says", text, err)
		}
		if k, ok := worker.LookupKind(err); ok && !k.Final() {
			t.Errorf("%q: the worker's error is of kind %q, which may pass", text, k)
		}
	}
}

// A Go error that a Target returns instead of an answer is judged by its
// type: an invoker's by whether it is temporary, its AWS code or its
// network failure; one of the worker's own by its kind; anything else
// is final.
func TestClassifyErrWorkerKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want outcome
	}{
		{"idle", fmt.Errorf("chunk 0: %w for 300 s; killed", worker.ErrIdle), transient},
		{"timed out", fmt.Errorf("%w: assets took longer than 5m", worker.ErrTimeout), transient},
		{"cancelled", fmt.Errorf("%w: reading job spec", worker.ErrCanceled), transient},
		{"chunk not found", fmt.Errorf("running: %w", jobspec.ErrChunkNotFound), permanent},
		{"jobPath refused", fmt.Errorf("job path: %w", worker.ErrJobPathNotAllowed), permanent},
		{"ambiguous", fmt.Errorf("decoding job spec: %w", jobspec.ErrAmbiguousJSON), permanent},
		{"not the worker's", errors.New("something else"), permanent},
		// An invoker's error decides by its own type first.
		{"temporary, wrapping a final kind", tempWrap{jobspec.ErrChunkNotFound}, transient},
		{"network, wrapping a final kind", &net.OpError{Op: "dial", Err: fmt.Errorf("x: %w", jobspec.ErrChunkNotFound)}, transient},
	}
	for _, tc := range tests {
		if got, why := classify(context.Background(), nil, tc.err); got != tc.want {
			t.Errorf("%s: classify = %v (%s), want %v", tc.name, got, why, tc.want)
		}
	}
}

// tempWrap is an invoker's temporary error that wraps another.
type tempWrap struct{ err error }

func (e tempWrap) Error() string   { return "temporary: " + e.err.Error() }
func (e tempWrap) Unwrap() error   { return e.err }
func (e tempWrap) Temporary() bool { return true }
