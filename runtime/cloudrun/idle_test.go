package cloudrun_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A chunk that goes quiet for HELIOS_CHUNK_IDLE_TIMEOUT is answered as a
// chunk killed for its timeout is: 500, exit code -1, the tails of its
// output, and a message that says so, but of kind "idle".
func TestChunkIdle(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.ChunkIdleTimeout = time.Second
	e := newEnv(t, cfg)
	job := e.spec(t, `sh -c 'echo started; echo loading >&2; sleep 3327.22'`)
	start := time.Now()
	r := e.do(t, http.MethodPost, payload(job, 0))
	r.check(t, http.StatusInternalServerError, "*")
	if kind := r.str(t, "errorKind"); kind != string(worker.KindIdle) {
		t.Errorf("errorKind %q, want %q: %s", kind, worker.KindIdle, r.raw)
	}
	if r.exitCode(t) != -1 || r.str(t, "stdout") != "started\n" || r.str(t, "stderr") != "loading\n" {
		t.Errorf("idle chunk answered %s: want exit code -1 and the output's tails", r.raw)
	}
	if m := r.str(t, "message"); !strings.Contains(m, "chunk 0: no output for 1 s; killed") || !strings.Contains(m, worker.EnvChunkIdleTimeout) {
		t.Errorf("message %q, want it to say no output for 1 s and name %s", m, worker.EnvChunkIdleTimeout)
	}
	// The idle timeout is 1 s; without it, the answer would wait an hour.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("idle chunk answered after %v", d)
	}
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "3327.22")) == 0 }) {
		t.Error("sleep 3327.22 left running")
	}
	if !waitFor(t, func() bool { return emptyDir(t, cfg.WorkspaceRoot) }) {
		t.Errorf("workspaces left: %v", dirNames(cfg.WorkspaceRoot))
	}
}
