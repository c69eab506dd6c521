// Package wiretest holds, for the tests of the wire encoders
// (runtime/awslambda, runtime/cloudrun), the Results whose status each
// encoder must give, as worker.Result.Status decides it.
package wiretest

import (
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A StatusCase is a Result and the status the contract gives it.
type StatusCase struct {
	Name   string
	Result worker.Result
	Status int
}

// AmbiguousSpec is the error of a spec that holds a key twice.
func AmbiguousSpec() error {
	_, err := jobspec.Parse([]byte(`{"id":"j","id":"k","chunks":[]}`))
	return err
}

// StatusCases are one Result of each way an invocation ends.
func StatusCases() []StatusCase {
	_, sameID := jobspec.Parse([]byte(`{"chunks":[{"id":1},{"id":1}]}`))
	_, notFound := (&jobspec.Spec{}).Chunk(9)
	return []StatusCase{
		{"success", worker.Result{Started: true}, 200},
		{"command failed", worker.Result{Started: true, ExitCode: 3}, 500},
		{"chunk timeout", worker.Result{Started: true, ExitCode: -1, Err: fmt.Errorf("%w after 1m", worker.ErrTimeout)}, 500},
		{"chunk idle", worker.Result{Started: true, ExitCode: -1, Err: fmt.Errorf("chunk 0: %w for 300 s; killed", worker.ErrIdle)}, 500},
		{"output missing", worker.Result{Started: true, Err: fmt.Errorf("%w: chunk_0.mp4", worker.ErrOutputMissing)}, 500},
		{"jobPath not allowed", worker.Result{Err: fmt.Errorf("job path %q: %w", "x", worker.ErrJobPathNotAllowed)}, 403},
		{"spec with a key twice", worker.Result{Err: AmbiguousSpec()}, 400},
		{"spec with two chunks of one id", worker.Result{Err: sameID}, 400},
		{"chunk not found", worker.Result{Err: notFound}, 500},
		{"spec read, access denied", worker.Result{Err: fmt.Errorf("reading job spec: %w", store.ErrAccessDenied)}, 500},
		{"no jobPath", worker.Result{Err: jobspec.ErrPayloadFields}, 400},
	}
}
