package awslambda_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// stdinSleepArg is unusual, so that a leftover sleep is this test's, and
// hours, so that one the worker did not kill is still there however long
// WaitNoProcess waits.
const stdinSleepArg = "3327.18"

// TestStdinMode runs the bootstrap outside Lambda (AWS_LAMBDA_RUNTIME_API
// unset): it must read one event from stdin, print exactly one response
// line on stdout, log JSON lines with a level (and the chunk's output) on
// stderr, and exit 0 on status 200 and 1 otherwise.
func TestStdinMode(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	killOnCleanup(t, "sleep", stdinSleepArg)
	root := t.TempDir()
	job := writeSpec(t, root, "job.json", spec("job-stdin", map[int64]string{
		0: `sh -c 'echo out; echo err >&2'`,
		1: `sh -c 'echo out; echo err >&2; exit 3'`,
		2: `sh -c 'echo partial; sleep ` + stdinSleepArg + `'`,
	}))
	ws := filepath.Join(root, "ws")
	base := []string{"HELIOS_WORKSPACE_ROOT=" + ws}
	good := want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}
	for _, tc := range []struct {
		name  string
		env   []string
		event string
		code  int
		want  want
		logs  bool // stderr must hold JSON log lines
	}{
		{"exit 0", nil, string(lambdatest.Event(job, 0)), 0, good, true},
		{"exit 3", nil, string(lambdatest.Event(job, 1)), 1,
			want{status: 500, keys: keysExit, exitCode: 3, output: "out\n", stderr: "err\n",
				message: "chunk command exited with code 3"}, true},
		{"not an object", nil, "[1,2]\n", 1, want{status: 400, keys: keysMessage, message: msgNotObject}, true},
		{"missing chunkIndex", nil, `{"jobPath":"x"}`, 1, want{status: 400, keys: keysMessage, message: msgFields}, true},
		{"chunk not found", nil, string(lambdatest.Event(job, 9)), 1,
			want{status: 500, keys: keysMessage, message: "Chunk with ID 9 not found in job spec"}, true},
		// Long enough for a new bootstrap to start the chunk and pass on
		// its "partial" on a loaded machine.
		{"chunk timeout", []string{"HELIOS_CHUNK_TIMEOUT=5s"}, string(lambdatest.Event(job, 2)), 1,
			want{status: 500, keys: keysExit, exitCode: -1, output: "partial\n",
				contains: []string{"timed out", worker.EnvChunkTimeout}}, true},
		{"chunk idle", []string{"HELIOS_CHUNK_IDLE_TIMEOUT=1s"}, string(lambdatest.Event(job, 2)), 1,
			want{status: 500, keys: keysExit, exitCode: -1, output: "partial\n", kind: worker.KindIdle,
				contains: []string{"chunk 2: no output for 1 s; killed", worker.EnvChunkIdleTimeout}}, true},
		{"AWS_LAMBDA_LOG_LEVEL=ERROR hides info lines", []string{"AWS_LAMBDA_LOG_LEVEL=ERROR"},
			string(lambdatest.Event(job, 0)), 0, good, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBootstrap(t, bins, append(base, tc.env...), tc.event)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !oneLine(stdout) {
				t.Fatalf("stdout is not exactly one line: %q\nstderr:\n%s", stdout, stderr)
			}
			check(t, stdinInvocation(t, stdout), tc.want)
			checkStdinLogs(t, stderr, tc.logs)
		})
	}
	if left := lambdatest.WaitNoProcess(testdeadline.Remaining(t), "sleep", stdinSleepArg); len(left) > 0 {
		t.Errorf("sleep %s still running: pids %v", stdinSleepArg, left)
	}
	checkEmpty(t, ws)

	t.Run("invalid configuration", func(t *testing.T) {
		stdout, stderr, code := runBootstrap(t, bins, append(base, "HELIOS_OUTPUT_LIMIT=lots"), string(lambdatest.Event(job, 0)))
		if code != 1 || len(stdout) != 0 {
			t.Errorf("exit code %d and stdout %q, want 1 and nothing", code, stdout)
		}
		if !bytes.Contains(stderr, []byte(`"level":"ERROR"`)) || !bytes.Contains(stderr, []byte("HELIOS_OUTPUT_LIMIT")) {
			t.Errorf("stderr does not report HELIOS_OUTPUT_LIMIT at level ERROR:\n%s", stderr)
		}
	})

	t.Run("SIGTERM cancels the chunk", func(t *testing.T) {
		cmd := bootstrapCmd(testdeadline.Context(t), bins, base)
		cmd.Stdin = bytes.NewReader(lambdatest.Event(job, 2))
		var stdout bytes.Buffer
		stderr := &syncbuf.Buffer{}
		cmd.Stdout, cmd.Stderr = &stdout, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(testdeadline.Remaining(t))
		for !strings.Contains(stderr.String(), "partial") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		code := exitCode(t, cmd.Wait())
		// At once, where the chunk would sleep for an hour: the bound
		// leaves a loaded machine ample time to kill it and clean up.
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("exited %v after SIGTERM", d)
		}
		if code != 1 || !oneLine(stdout.Bytes()) {
			t.Fatalf("exit code %d, stdout %q; want 1 and one line\nstderr:\n%s", code, stdout.Bytes(), stderr)
		}
		check(t, stdinInvocation(t, stdout.Bytes()), want{status: 500, keys: keysExit, exitCode: -1,
			output: "partial\n", contains: []string{"cancelled"}})
		if left := lambdatest.WaitNoProcess(testdeadline.Remaining(t), "sleep", stdinSleepArg); len(left) > 0 {
			t.Errorf("sleep %s still running after SIGTERM: pids %v", stdinSleepArg, left)
		}
		checkEmpty(t, ws)
	})
}

func bootstrapCmd(ctx context.Context, bins lambdatest.Binaries, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bins.Bootstrap)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_LAMBDA_") && !strings.HasPrefix(kv, "HELIOS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	// Once the bootstrap has exited, only a process it failed to kill can
	// hold its output open: a guard, generous for a loaded machine.
	cmd.WaitDelay = time.Minute
	return cmd
}

// runBootstrap runs the bootstrap in stdin mode with event on stdin.
func runBootstrap(t *testing.T, bins lambdatest.Binaries, env []string, event string) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := bootstrapCmd(testdeadline.Context(t), bins, env)
	cmd.Stdin = strings.NewReader(event)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code = exitCode(t, cmd.Run())
	return out.Bytes(), errOut.Bytes(), code
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.Exited() {
		return ee.ExitCode()
	}
	t.Fatalf("running the bootstrap: %v", err)
	return -1
}

// stdinInvocation reads a stdin-mode response line as an invocation, so
// that check applies to it as to an emulator's answer.
func stdinInvocation(t *testing.T, line []byte) lambdatest.Invocation {
	t.Helper()
	payload := bytes.TrimSuffix(line, []byte("\n"))
	res, err := lambdacaller.Parse(payload)
	return lambdatest.Invocation{Payload: payload, Result: res, Err: err}
}

// checkStdinLogs checks that every line of stderr is either the chunk's
// output or a JSON log line with a level, and that there are log lines
// when want says so and none otherwise.
func checkStdinLogs(t *testing.T, stderr []byte, want bool) {
	t.Helper()
	chunkLines := map[string]bool{"out": true, "err": true, "partial": true}
	logs := 0
	for line := range strings.Lines(string(stderr)) {
		line = strings.TrimSuffix(line, "\n")
		if chunkLines[line] {
			continue
		}
		m := jsonLines(line)
		if len(m) != 1 {
			t.Errorf("stderr line is neither the chunk's output nor a JSON object: %q", line)
			continue
		}
		if _, ok := m[0]["level"].(string); !ok {
			t.Errorf("log line without a level: %q", line)
		}
		logs++
	}
	if want != (logs > 0) {
		t.Errorf("%d JSON log lines on stderr, want some: %v\n%s", logs, want, stderr)
	}
}
