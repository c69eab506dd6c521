package worker_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// idleSlack bounds how long after the idle timeout a silent chunk may
// still be running and answered: the watch looks every quarter of the
// timeout, and killing, reaping and answering take milliseconds. It is
// wide for a loaded machine; the slow path it catches is the chunk's
// hours-long sleep.
const idleSlack = 5 * time.Second

// A chunk that prints nothing and grows no file for HELIOS_CHUNK_IDLE_TIMEOUT
// is killed, with its kind, its message and the tails of its output; one
// that prints, or grows a file in its workspace or its TMPDIR, is not.
func TestRunIdle(t *testing.T) {
	const idle = time.Second
	tests := []struct {
		name, command string
		idle          time.Duration
		sleep         string // argument of a sleep that must not outlive the chunk
		killed        bool
		stdout        string
		stderr        string
	}{
		{name: "silent after a line", idle: idle, killed: true, sleep: "7051",
			command: `sh -c 'echo started; echo warming up >&2; sleep 7051'`,
			stdout:  "started\n", stderr: "warming up\n"},
		{name: "a line every 300ms for 3s", idle: idle,
			command: `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.3; done'`,
			stdout:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"},
		{name: "stderr only", idle: idle,
			command: `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i >&2; sleep 0.3; done'`,
			stderr:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"},
		{name: "silent, growing a file in the workspace", idle: idle,
			command: `sh -c 'exec >/dev/null 2>&1; for i in 1 2 3 4 5 6; do echo x >> f; sleep 0.4; done'`},
		{name: "silent, growing a file in TMPDIR", idle: idle,
			command: `sh -c 'exec >/dev/null 2>&1; for i in 1 2 3 4 5 6; do echo x >> "$TMPDIR/f"; sleep 0.4; done'`},
		{name: "silent, watch off", idle: 0, command: `sleep 1.5`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.sleep != "" {
				killOnCleanup(t, "sleep", tc.sleep)
			}
			cfg := testConfig(t)
			cfg.ChunkIdleTimeout = tc.idle
			path := writeSpec(t, oneChunk(tc.command))
			last := &lineWatch{want: "\n"} // the first line the chunk prints
			w := newWorker(cfg, worker.WithPassthrough(last, io.Discard))
			start := time.Now()
			r := runOrFail(t, t.Context(), w, jobspec.Request{JobPath: path})
			if tc.killed {
				checkIdleKill(t, r, tc.idle, start, last.seen())
			} else if !r.OK() {
				t.Errorf("Run = %+v (%s), want a success", r, r.Message())
			}
			if string(r.Stdout) != tc.stdout || string(r.Stderr) != tc.stderr {
				t.Errorf("stdout %q, stderr %q; want %q, %q", r.Stdout, r.Stderr, tc.stdout, tc.stderr)
			}
			if tc.sleep != "" {
				assertNoProc(t, "sleep", tc.sleep)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// checkIdleKill checks that r is a chunk killed for idling within idle
// (and idleSlack) of its last line, printed at printed.
func checkIdleKill(t *testing.T, r *worker.Result, idle time.Duration, start, printed time.Time) {
	t.Helper()
	if printed.IsZero() {
		t.Error("the chunk was killed before it printed a line")
		printed = start
	}
	if elapsed := time.Since(printed); elapsed > idle+idleSlack {
		t.Errorf("Run answered %v after the chunk's last line, want at most %v + %v", elapsed, idle, idleSlack)
	}
	if !r.Started || r.OK() || r.ExitCode != -1 || r.Signal != "" {
		t.Errorf("Run = %+v, want a started chunk killed by the worker (exit code -1, no signal)", r)
	}
	if !errors.Is(r.Err, worker.ErrIdle) || errors.Is(r.Err, worker.ErrTimeout) || errors.Is(r.Err, worker.ErrCanceled) {
		t.Errorf("Err = %v, want ErrIdle alone", r.Err)
	}
	if r.Kind() != worker.KindIdle || r.Kind().Final() {
		t.Errorf("Kind() = %q (final %v), want %q, not final", r.Kind(), r.Kind().Final(), worker.KindIdle)
	}
	if m := r.Message(); !strings.HasPrefix(m, "chunk 0: no output for 1 s; killed") || !strings.Contains(m, worker.EnvChunkIdleTimeout) {
		t.Errorf("Message() = %q, want \"chunk 0: no output for 1 s; killed\" naming %s", m, worker.EnvChunkIdleTimeout)
	}
}

// The chunk timeout still ends a chunk that prints all along, as before,
// with ErrTimeout and not ErrIdle.
func TestRunChunkTimeoutWithIdleWatch(t *testing.T) {
	killOnCleanup(t, "sleep", "7052")
	cfg := testConfig(t)
	cfg.ChunkIdleTimeout = time.Second
	cfg.ChunkTimeout = 2 * time.Second
	r := runChunk(t, cfg, `sh -c 'while :; do echo tick; sleep 0.2; done & sleep 7052'`)
	if !errors.Is(r.Err, worker.ErrTimeout) || errors.Is(r.Err, worker.ErrIdle) || r.Kind() != worker.KindTimeout {
		t.Errorf("Err = %v, kind %q: want the chunk timeout", r.Err, r.Kind())
	}
	assertNoProc(t, "sleep", "7052")
	assertEmptyDir(t, cfg.WorkspaceRoot)
}
