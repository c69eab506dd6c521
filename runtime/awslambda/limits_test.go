package awslambda_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// sleepArg is an unusual duration, so that a leftover `sleep 31.4159` can
// only be this test's.
const sleepArg = "31.4159"

// TestLambdaTimeout gives the function a 3 s deadline and a chunk that
// would sleep 31 s: the handler must kill it HELIOS_TIMEOUT_MARGIN (1 s)
// before the deadline and answer the contract's timeout row, never letting
// Lambda time the function out (a FunctionError, all output lost), and must
// leave no process and no workspace behind.
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
	emu := lambdatest.StartT(t, bins, lambdatest.Options{
		FunctionTimeout: 3,
		Env:             []string{"HELIOS_WORKSPACE_ROOT=" + ws, "HELIOS_TIMEOUT_MARGIN=1s"},
	})
	call := func(chunk int64) lambdatest.Invocation {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return emu.Call(ctx, worker.Request{JobPath: job, ChunkIndex: chunk})
	}
	good := want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}
	check(t, call(0), good) // initialise first: the deadline below is then the invocation's alone

	inv := call(1)
	check(t, inv, want{status: 500, keys: keysExit, exitCode: -1, output: "partial\n", stderr: "partial-err\n",
		contains: []string{"timed out", "before the Lambda deadline", worker.EnvTimeoutMargin}})
	if inv.Duration < 1500*time.Millisecond || inv.Duration >= 3*time.Second {
		t.Errorf("answered after %v, want about 2s (3s deadline less 1s margin)", inv.Duration)
	}
	if left := lambdatest.WaitNoProcess(3*time.Second, "sleep", sleepArg); len(left) > 0 {
		t.Errorf("sleep %s still running after the timeout: pids %v", sleepArg, left)
	}
	checkEmpty(t, ws)
	check(t, call(0), good) // the same worker still answers
	if strings.Contains(emu.Output(), "Task timed out") {
		t.Error("the emulator timed the function out")
	}
	if d, err := emu.InitDuration(5 * time.Second); err == nil {
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
		0: `sh -c 'head -c 50000000 /dev/zero | tr "\0" x; echo END-OF-50MB'`,
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
		{"50 MB of x", 0, 200, "xxxxEND-OF-50MB\n", ""},
		{"3 MB of NUL bytes", 1, 200, "\x00\x00END-OF-ZEROS\n", ""},
		{"3 MB of NUL bytes on each stream", 2, 200, "\x00END-OUT\n", "\x00END-ERR\n"},
		{"3 MB of random bytes", 3, 200, "\nEND-OF-RANDOM\n", ""},
		{"3 MB of backslashes, exit 5", 4, 500, "\\\\\nEND-OF-BACKSLASHES\n", ""},
		{"3 MB of x and of NUL bytes", 5, 200, "xEND-OUT\n", "\x00END-ERR\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			inv := emu.Call(ctx, worker.Request{JobPath: job, ChunkIndex: tc.chunk})
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
	wait := func(arg string) string { // a bracket keeps grep from finding itself
		re := arg[:len(arg)-1] + "[" + arg[len(arg)-1:] + "]"
		return `for i in $(seq 1000); do grep -qsxz "` + re + `" /proc/[0-9]*/cmdline && break; sleep 0.01; done`
	}
	job := writeSpec(t, root, "job.json", spec("job-escape", map[int64]string{
		0: `sh -c 'setsid -f env -i sleep 41.4159; ` + wait("41.4159") + `'`,
		1: `sh -c '(setsid sh -c "sleep 42.4159 </dev/null >/dev/null 2>&1 &" &); ` + wait("42.4159") + `'`,
	}))
	emu := lambdatest.StartT(t, bins, lambdatest.Options{Env: []string{"HELIOS_WORKSPACE_ROOT=" + ws}})
	for chunk, arg := range []string{"41.4159", "42.4159"} {
		t.Cleanup(func() {
			for _, pid := range lambdatest.ProcessesWithArgs("sleep", arg) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		inv := emu.Call(ctx, worker.Request{JobPath: job, ChunkIndex: int64(chunk)})
		cancel()
		check(t, inv, want{status: 200, keys: keysSuccess})
		if left := lambdatest.ProcessesWithArgs("sleep", arg); len(left) > 0 {
			t.Errorf("sleep %s still running once chunk %d was answered: pids %v", arg, chunk, left)
		}
	}
	checkEmpty(t, ws)
}
