package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

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
