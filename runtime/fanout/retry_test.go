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
