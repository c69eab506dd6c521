package awslambda_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// sleepArg is an unusual duration, so that a leftover `sleep 3141.59` can
// only be this test's; and hours, so that a sleep the worker did not kill
// is still there however long WaitNoProcess waits.
const sleepArg = "3141.59"

// TestLambdaTimeout gives the function an 8 s deadline and a chunk that
// would sleep for an hour: the handler must kill it HELIOS_TIMEOUT_MARGIN
// (4 s) before the deadline and answer the contract's timeout row, never
// letting Lambda time the function out (a FunctionError, all output lost),
// and must leave no process and no workspace behind. The margin is what
// the handler has to answer in after the kill: wide, for a loaded machine.
func TestLambdaTimeout(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	job := writeSpec(t, root, "job.json", spec("job-timeout", map[int64]string{
		0: `sh -c 'echo out; echo err >&2'`,
		1: `sh -c 'echo partial; echo partial-err >&2; sleep ` + sleepArg + `'`,
	}))
	const deadline, margin = 8 * time.Second, 4 * time.Second
	killOnCleanup(t, "sleep", sleepArg)
	emu := lambdatest.StartT(t, bins, lambdatest.Options{
		FunctionTimeout: int(deadline / time.Second),
		Env:             []string{"HELIOS_WORKSPACE_ROOT=" + ws, "HELIOS_TIMEOUT_MARGIN=" + margin.String()},
	})
	call := func(chunk int64) lambdatest.Invocation {
		return emu.Call(testdeadline.Context(t), jobspec.Request{JobPath: job, ChunkIndex: chunk})
	}
	good := want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}
	check(t, call(0), good) // initialise first: the deadline below is then the invocation's alone

	inv := call(1)
	check(t, inv, want{status: 500, keys: keysExit, exitCode: -1, output: "partial\n", stderr: "partial-err\n",
		contains: []string{"timed out", "before the Lambda deadline", worker.EnvTimeoutMargin}})
	// Killed at the deadline less the margin (half a second's slack for
	// the deadline's rounding), answered before the deadline itself.
	if inv.Duration < deadline-margin-500*time.Millisecond || inv.Duration >= deadline {
		t.Errorf("answered after %v, want between %v (%v deadline less %v margin) and %v",
			inv.Duration, deadline-margin, deadline, margin, deadline)
	}
	if left := lambdatest.WaitNoProcess(testdeadline.Remaining(t), "sleep", sleepArg); len(left) > 0 {
		t.Errorf("sleep %s still running after the timeout: pids %v", sleepArg, left)
	}
	checkEmpty(t, ws)
	check(t, call(0), good) // the same worker still answers
	if strings.Contains(emu.Output(), "Task timed out") {
		t.Error("the emulator timed the function out")
	}
	if d, err := emu.InitDuration(5 * time.Second); err == nil { // only logged: TestLambdaContract checks it
		t.Logf("INIT REPORT: %v", d)
	}
}

// TestLambdaBigOutput runs chunks whose output, captured and then escaped
// twice (JSON in JSON), would exceed Lambda's 6 MB response limit: every
// response must be well-formed and under awslambda.MaxResponseBytes, keep
// the end of the output, and say that it was cut.
func TestLambdaBigOutput(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	job := writeSpec(t, root, "job.json", spec("job-big", map[int64]string{
		0: `sh -c 'head -c 8000000 /dev/zero | tr "\0" x; echo END-OF-8MB'`,
		1: `sh -c 'head -c 3000000 /dev/zero; echo END-OF-ZEROS'`,
		2: `sh -c 'head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2; echo END-OUT; echo END-ERR >&2'`,
		3: `sh -c 'head -c 3000000 /dev/urandom; echo; echo END-OF-RANDOM'`,
		4: `sh -c 'head -c 3000000 /dev/zero | tr "\0" "\\\\"; echo; echo END-OF-BACKSLASHES; exit 5'`,
		5: `sh -c 'head -c 3000000 /dev/zero | tr "\0" x; head -c 3000000 /dev/zero >&2; echo END-OUT; echo END-ERR >&2'`,
	}))
	emu := lambdatest.StartT(t, bins, lambdatest.Options{Env: []string{"HELIOS_WORKSPACE_ROOT=" + root}})
	for _, tc := range []struct {
		name           string
		chunk          int64
		status         int
		stdout, stderr string // the tails that must be kept
	}{
		// More than the response limit and eight times the 1 MiB that the
		// worker keeps (HELIOS_OUTPUT_LIMIT): more would only take longer.
		{"8 MB of x", 0, 200, "xxxxEND-OF-8MB\n", ""},
		{"3 MB of NUL bytes", 1, 200, "\x00\x00END-OF-ZEROS\n", ""},
		{"3 MB of NUL bytes on each stream", 2, 200, "\x00END-OUT\n", "\x00END-ERR\n"},
		{"3 MB of random bytes", 3, 200, "\nEND-OF-RANDOM\n", ""},
		{"3 MB of backslashes, exit 5", 4, 500, "\\\\\nEND-OF-BACKSLASHES\n", ""},
		{"3 MB of x and of NUL bytes", 5, 200, "xEND-OUT\n", "\x00END-ERR\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := emu.Call(testdeadline.Context(t), jobspec.Request{JobPath: job, ChunkIndex: tc.chunk})
			w := want{status: tc.status, keys: keysSuccess}
			if tc.status != 200 {
				w.keys, w.exitCode = keysExit, 5
			}
			if inv.FunctionError != "" || inv.Err != nil {
				t.Fatalf("FunctionError %q, error %v: %.300s", inv.FunctionError, inv.Err, inv.Payload)
			}
			t.Logf("response: %d bytes", len(inv.Payload))
			if n := len(inv.Payload); n > awslambda.MaxResponseBytes || n >= lambdaLimit {
				t.Fatalf("response of %d bytes, want at most %d", n, awslambda.MaxResponseBytes)
			}
			r := decodeResponse(t, inv.Payload)
			if r.Status != w.status || strings.Join(r.Keys, ",") != strings.Join(w.keys, ",") ||
				(r.Body.ExitCode != nil && *r.Body.ExitCode != w.exitCode) {
				t.Fatalf("status %d, keys %q, exitCode %v; want %d, %q, %d",
					r.Status, r.Keys, deref(r.Body.ExitCode), w.status, w.keys, w.exitCode)
			}
			out, errOut := deref(r.Body.Output), deref(r.Body.Stderr)
			if !utf8.ValidString(out) || !utf8.ValidString(errOut) {
				t.Error("output is not valid UTF-8")
			}
			if inv.Result.Stdout != out || inv.Result.Stderr != errOut {
				t.Error("lambdacaller's Stdout/Stderr differ from the body's output/stderr")
			}
			if !r.Body.OutputTruncated {
				t.Error("outputTruncated is false")
			}
			if tc.stderr != "" && !r.Body.StderrTruncated {
				t.Error("stderrTruncated is false")
			}
			if !strings.HasSuffix(out, tc.stdout) && !strings.HasSuffix(errOut, tc.stderr) {
				t.Fatalf("output tail %q / stderr tail %q: want them to end with %q / %q",
					tail(out), tail(errOut), tc.stdout, tc.stderr)
			}
			if tc.stderr != "" && (out == "" || errOut == "") {
				t.Errorf("kept %d bytes of stdout and %d of stderr: want a tail of each", len(out), len(errOut))
			}
			if !strings.HasSuffix(out, tc.stdout) || !strings.HasSuffix(errOut, tc.stderr) {
				t.Errorf("output tail %q / stderr tail %q: want them to end with %q / %q",
					tail(out), tail(errOut), tc.stdout, tc.stderr)
			}
		})
	}
	if out := emu.Output(); strings.Contains(out, "ResponseSizeTooLarge") {
		t.Error("the emulator reported ResponseSizeTooLarge")
	}
}

func tail(s string) string { return s[max(0, len(s)-40):] }

// TestLambdaLeavesNoProcess: under the emulator, the bootstrap answers a
// chunk only once what the chunk started is gone, however it escaped; the
// next invocation (which Lambda may run after thawing the environment)
// finds nothing of it.
func TestLambdaLeavesNoProcess(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	wait := func(arg string) string { // up to a minute; a bracket keeps grep from finding itself
		re := arg[:len(arg)-1] + "[" + arg[len(arg)-1:] + "]"
		return `for i in $(seq 6000); do grep -qsxz "` + re + `" /proc/[0-9]*/cmdline && break; sleep 0.01; done`
	}
	job := writeSpec(t, root, "job.json", spec("job-escape", map[int64]string{
		0: `sh -c 'setsid -f env -i sleep 41.4159; ` + wait("41.4159") + `'`,
		1: `sh -c '(setsid sh -c "sleep 42.4159 </dev/null >/dev/null 2>&1 &" &); ` + wait("42.4159") + `'`,
	}))
	emu := lambdatest.StartT(t, bins, lambdatest.Options{Env: []string{"HELIOS_WORKSPACE_ROOT=" + ws}})
	for chunk, arg := range []string{"41.4159", "42.4159"} {
		killOnCleanup(t, "sleep", arg)
		inv := emu.Call(testdeadline.Context(t), jobspec.Request{JobPath: job, ChunkIndex: int64(chunk)})
		check(t, inv, want{status: 200, keys: keysSuccess})
		if left := lambdatest.ProcessesWithArgs("sleep", arg); len(left) > 0 {
			t.Errorf("sleep %s still running once chunk %d was answered: pids %v", arg, chunk, left)
		}
	}
	checkEmpty(t, ws)
}
