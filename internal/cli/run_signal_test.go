package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// writeMarkedJob writes a spec of n chunks whose first try fails (a
// marker in $MARKS, outside any workspace, says whether it ran before),
// whose second takes a while and then records its success, and whose
// merge records that it ran.
func writeMarkedJob(t *testing.T, dir string, n int, sleep string) string {
	type chunk struct {
		ID         int    `json:"id"`
		OutputFile string `json:"outputFile"`
		Command    string `json:"command"`
	}
	var spec struct {
		Chunks       []chunk `json:"chunks"`
		MergeCommand string  `json:"mergeCommand"`
	}
	for i := range n {
		script := fmt.Sprintf(`M=$MARKS/%d; echo try >> $M.tries; test -e $M || { touch $M; exit 7; }; sleep %s; echo %d > out_%d.txt; echo ok >> $M.ok`, i, sleep, i, i)
		spec.Chunks = append(spec.Chunks, chunk{ID: i, OutputFile: fmt.Sprintf("out_%d.txt", i), Command: "sh -c '" + script + "'"})
	}
	spec.MergeCommand = `sh -c 'echo merged >> $MARKS/merges; cat out_*.txt > merged.txt'`
	data, _ := json.Marshal(spec)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runOutput is what a started run printed: its JSON events and its
// messages.
type runOutput struct{ stdout, stderr syncbuf.Buffer }

// startRun starts the built CLI's run with args and returns it, a
// channel of the chunks it finishes, and what it prints.
func startRun(ctx context.Context, t *testing.T, bin, marks string, args ...string) (*exec.Cmd, <-chan int64, *runOutput) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, append([]string{"run", "--progress", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "MARKS="+marks)
	out := &runOutput{}
	cmd.Stderr = &out.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	finished := make(chan int64, 100)
	go func() {
		defer close(finished)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.stdout.Write(append(sc.Bytes(), '\n'))
			var e struct {
				Event string `json:"event"`
				Chunk int64  `json:"chunk"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event == "finished" {
				finished <- e.Chunk
			}
		}
	}()
	return cmd, finished, out
}

func exitCodeOf(err error) int {
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A local run of 20 chunks that each fail once, with --retry-failed
// --retries 1, is interrupted with SIGINT after about half: it stops
// starting chunks, lets those running finish, and exits 130. The same
// command then runs the rest: every chunk succeeded exactly once over
// both runs, and the merge ran once.
func TestRunInterruptedAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	dir, marks := t.TempDir(), t.TempDir()
	spec := writeMarkedJob(t, dir, 20, "0.2")
	args := []string{spec, "--retry-failed", "--retries", "1", "--concurrency", "4", "--workspace-root", t.TempDir()}

	cmd, finished, _ := startRun(ctx, t, bin, marks, args...)
	for range 10 {
		if _, ok := <-finished; !ok {
			t.Fatal("the run ended before 10 chunks finished")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(cmd.Wait()); code != 130 {
		t.Fatalf("after SIGINT: exit %d, want 130", code)
	}
	if _, err := os.Stat(filepath.Join(marks, "merges")); err == nil {
		t.Fatal("an interrupted run merged")
	}
	cmd, _, _ = startRun(ctx, t, bin, marks, args...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the second run: %v", err)
	}
	for i := range 20 {
		ok, _ := os.ReadFile(filepath.Join(marks, fmt.Sprint(i)+".ok"))
		tries, _ := os.ReadFile(filepath.Join(marks, fmt.Sprint(i)+".tries"))
		if string(ok) != "ok\n" || string(tries) != "try\ntry\n" {
			t.Errorf("chunk %d: %d successes in %d tries, want 1 in 2", i, strings.Count(string(ok), "ok"), strings.Count(string(tries), "try"))
		}
	}
	if merges, _ := os.ReadFile(filepath.Join(marks, "merges")); string(merges) != "merged\n" {
		t.Errorf("the merge ran %d times, want once", strings.Count(string(merges), "merged"))
	}
}

// Two SIGTERMs: the first stops starting chunks, the second stops those
// running (their processes killed, their workspaces gone); exit 143.
func TestRunTerminatedTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	dir, marks, root := t.TempDir(), t.TempDir(), t.TempDir()
	spec := writeMarkedJob(t, dir, 4, "47.5")
	for i := range 4 { // no failing first try: straight to the long sleep
		os.WriteFile(filepath.Join(marks, fmt.Sprint(i)), nil, 0o644)
	}
	cmd, finished, out := startRun(ctx, t, bin, marks, spec, "--concurrency", "2", "--workspace-root", root)
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for len(sleepers()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the chunks never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if len(sleepers()) != 2 {
		t.Errorf("after one SIGTERM, %d chunks run; want the 2 that ran", len(sleepers()))
	}
	// Said at once, while the chunks still run for most of a minute.
	waitUntil(t, func() bool {
		return strings.Contains(out.stderr.String(), "stopping: no chunk starts now; waiting for the 2 in flight (Ctrl-C again stops them)")
	})
	cmd.Process.Signal(syscall.SIGTERM)
	for range finished { // read stdout to its end before Wait closes it
	}
	if code := exitCodeOf(cmd.Wait()); code != 143 {
		t.Fatalf("after two SIGTERMs: exit %d, want 143", code)
	}
	if n := len(sleepers()); n != 0 {
		t.Errorf("%d chunk processes outlived the run", n)
	}
	if n := strings.Count(out.stdout.String(), `"event":"killed"`); n != 2 {
		t.Errorf("%d killed events, want the 2 chunks stopped:\n%s", n, out.stdout.String())
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "helios-") && e.Name() != "helios-cache" {
			t.Errorf("%s left below the workspace root", e.Name())
		}
	}
}

// sleepers are the processes running `sleep 47.5`.
func sleepers() []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(cmdline) == "sleep\x0047.5\x00" {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
