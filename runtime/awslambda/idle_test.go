package awslambda_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// idleSleepArg is unusual, so that a leftover sleep is this test's, and
// hours, so that one the worker did not kill is still there however long
// WaitNoProcess waits.
const idleSleepArg = "3327.21"

// A chunk that goes quiet for HELIOS_CHUNK_IDLE_TIMEOUT is answered as a
// chunk killed for its timeout is: 500, exit code -1, the tails of its
// output, and a message that says so, but of kind "idle", which
// lambdacaller reads.
func TestRespondIdle(t *testing.T) {
	t.Parallel()
	killOnCleanup(t, "sleep", idleSleepArg)
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.ChunkIdleTimeout = time.Second
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
	job := writeSpec(t, t.TempDir(), "job.json", spec("job-idle", map[int64]string{
		0: `sh -c 'echo partial; echo loading >&2; sleep ` + idleSleepArg + `'`,
	}))
	payload, _ := json.Marshal(jobspec.Request{JobPath: job})
	start := time.Now()
	// Within the test's deadline: a watch that failed ends as a timeout.
	wire, err := awslambda.NewHandler(w).Invoke(testdeadline.Context(t), payload)
	if d := time.Since(start); d > time.Minute {
		t.Errorf("answered after %v, want about the idle timeout (1s)", d)
	}
	var resp awslambda.Response
	var b awslambda.Body
	if err != nil || json.Unmarshal(wire, &resp) != nil || json.Unmarshal([]byte(resp.Body), &b) != nil || resp.StatusCode != 500 {
		t.Fatalf("answer %s, %v: want a 500", wire, err)
	}
	res, err := lambdacaller.Parse(wire)
	if err != nil {
		t.Fatalf("lambdacaller.Parse(%s): %v", wire, err)
	}
	if b.ExitCode == nil || *b.ExitCode != -1 || deref(b.Output) != "partial\n" || deref(b.Stderr) != "loading\n" {
		t.Errorf("body %+v: want exit code -1 and the output's tails", b)
	}
	if b.ErrorKind != worker.KindIdle || !strings.Contains(b.Message, "no output for 1 s") {
		t.Errorf("errorKind %q, message %q: want idle, no output for 1 s", b.ErrorKind, b.Message)
	}
	if res.StatusCode != 500 || res.OK() || res.ErrorKind != string(worker.KindIdle) || res.Stderr != "loading\n" {
		t.Errorf("lambdacaller read %+v: want status 500 of kind idle", *res)
	}
	if left := lambdatest.WaitNoProcess(testdeadline.Remaining(t), "sleep", idleSleepArg); len(left) > 0 {
		t.Errorf("sleep %s left running: pids %v", idleSleepArg, left)
	}
	checkEmpty(t, cfg.WorkspaceRoot)
}
