package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// waitFor polls cond until it holds, failing the test at its deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runCmd is the built CLI's run with args, its stderr kept.
func runCmd(ctx context.Context, bin, marks string, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"run", "--progress", "none"}, args...)...)
	cmd.Env = append(os.Environ(), "MARKS="+marks)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// Two runs of one spec at once: the second exits 2 at once naming the
// first's pid, and nothing of the first is disturbed; with --wait it
// waits for the first to end and then finds every chunk done. Each chunk
// ran once, and the state is whole.
func TestRunTwiceAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	dir, marks := t.TempDir(), t.TempDir()
	// The first run holds the state for about 6 s; no chunk fails its
	// first try.
	spec := writeMarkedJob(t, dir, 4, "3")
	for i := range 4 {
		os.WriteFile(filepath.Join(marks, fmt.Sprint(i)), nil, 0o644)
	}
	args := []string{spec, "--concurrency", "2", "--workspace-root", t.TempDir()}
	first, _ := runCmd(ctx, bin, marks, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first run's first chunk", func() bool {
		tries, _ := filepath.Glob(filepath.Join(marks, "*.tries"))
		return len(tries) > 0
	})
	second, stderr := runCmd(ctx, bin, marks, args...)
	if code := exitCodeOf(second.Run()); code != 2 {
		t.Fatalf("a second run at once: exit %d, want 2\n%s", code, stderr)
	}
	want := fmt.Sprintf("another run holds the state file %s: pid %d, running since ", filepath.Join(dir, ".job.helios-run"), first.Process.Pid)
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("a second run at once said:\n%s\nwant %q", stderr, want)
	}
	// A waiting run stops waiting on SIGINT, with 130.
	impatient, stderr := runCmd(ctx, bin, marks, append(args, "--wait")...)
	if err := impatient.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // most likely polling the lock by now; either way it must stop
	impatient.Process.Signal(syscall.SIGINT)
	if code := exitCodeOf(impatient.Wait()); code != 130 {
		t.Fatalf("a waiting run after SIGINT: exit %d, want 130\n%s", code, stderr)
	}
	waiting, stderr := runCmd(ctx, bin, marks, append(args, "--wait")...)
	if err := waiting.Start(); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("the first run: %v", err)
	}
	if err := waiting.Wait(); err != nil {
		t.Fatalf("the waiting run: %v\n%s", err, stderr)
	}
	for i := range 4 {
		if tries, _ := os.ReadFile(filepath.Join(marks, fmt.Sprint(i)+".tries")); string(tries) != "try\n" {
			t.Errorf("chunk %d ran %d times, want once", i, strings.Count(string(tries), "try"))
		}
	}
	state, _ := os.ReadFile(filepath.Join(dir, ".job.helios-run"))
	if n := strings.Count(string(state), "\n"); n != 5 {
		t.Errorf("the state has %d lines, want a header and 4 records:\n%s", n, state)
	}
}

// A run SIGKILLed while its chunks or its merge run leaves nothing
// running for long: what it started directly dies with it, and what
// those started is killed by the next run on the same state, which then
// finishes: every chunk done once, one merge.
func TestRunKilledLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	for _, phase := range []string{"chunk", "merge"} {
		t.Run(phase, func(t *testing.T) {
			dir, marks := t.TempDir(), t.TempDir()
			// The first time through, the chunk (or the merge) starts a
			// child that sleeps for an hour, and waits for it.
			hang := `test -e $MARKS/hung || { touch $MARKS/hung; echo $$ > $MARKS/leader; sleep 3600 & echo $! > $MARKS/child; wait; }`
			chunk, merge := `echo x > out_0.txt`, `cat out_0.txt > merged.txt; echo merged >> $MARKS/merges`
			if phase == "chunk" {
				chunk = hang + "; " + chunk
			} else {
				merge = hang + "; " + merge
			}
			spec := filepath.Join(dir, "job.json")
			os.WriteFile(spec, fmt.Appendf(nil, `{"chunks":[{"id":0,"outputFile":"out_0.txt","command":%q}],"mergeCommand":%q}`,
				"sh -c '"+chunk+"'", "sh -c '"+merge+"'"), 0o644)
			args := []string{spec, "--workspace-root", t.TempDir()}
			run, _ := runCmd(ctx, bin, marks, args...)
			run.Stderr = nil // the merge's child would hold a pipe open, and Wait wait for it
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			leader, child := pidIn(t, marks, "leader"), pidIn(t, marks, "child")
			run.Process.Kill()
			run.Wait()
			waitFor(t, "the "+phase+"'s leader dying with the run", func() bool { return !procfs.Running(leader) })
			if !procfs.Running(child) {
				t.Fatalf("the %s's child died with the run: nothing left to find", phase)
			}
			again, stderr := runCmd(ctx, bin, marks, args...)
			if err := again.Run(); err != nil {
				t.Fatalf("the run after the kill: %v\n%s", err, stderr)
			}
			if procfs.Running(child) {
				syscall.Kill(child, syscall.SIGKILL)
				t.Errorf("the %s's child (pid %d) outlived the next run", phase, child)
			}
			if !strings.Contains(stderr.String(), "killed 1 processes that a killed run on ") {
				t.Errorf("the next run did not say what it killed:\n%s", stderr)
			}
			if merges, _ := os.ReadFile(filepath.Join(marks, "merges")); string(merges) != "merged\n" {
				t.Errorf("merges: %q, want one", merges)
			}
		})
	}
}

// pidIn waits for the pid that a chunk or merge writes to marks/name.
func pidIn(t *testing.T, marks, name string) int {
	t.Helper()
	var pid int
	waitFor(t, name+" pid written", func() bool {
		data, err := os.ReadFile(filepath.Join(marks, name))
		if err != nil || !strings.HasSuffix(string(data), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	})
	return pid
}

// A run SIGKILLed at any point of its life (staging, chunks, the state's
// writes, the merge) is finished by the same command: exit 0 and the
// right merged file, every time. The kills are spread over a clean run's
// length.
func TestRunKilledAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	dir, marks := t.TempDir(), t.TempDir()
	var chunks, parts []string
	var want strings.Builder
	for i := range 10 {
		chunks = append(chunks, fmt.Sprintf(`{"id":%d,"outputFile":"p%d.txt","command":"sh -c 'sleep 0.1; echo part %d > p%d.txt'"}`, i, i, i, i))
		parts = append(parts, fmt.Sprintf("p%d.txt", i))
		fmt.Fprintf(&want, "part %d\n", i)
	}
	spec := filepath.Join(dir, "job.json")
	os.WriteFile(spec, fmt.Appendf(nil, `{"chunks":[%s],"mergeCommand":"sh -c 'sleep 0.2; cat %s > out.txt'"}`,
		strings.Join(chunks, ","), strings.Join(parts, " ")), 0o644)
	args := []string{spec, "--concurrency", "3", "--workspace-root", t.TempDir()}
	reset := func() {
		for _, name := range append(parts, "out.txt", ".job.helios-run") {
			os.Remove(filepath.Join(dir, name))
		}
	}
	clean, _ := runCmd(ctx, bin, marks, args...)
	start := time.Now()
	if err := clean.Run(); err != nil {
		t.Fatal(err)
	}
	length := time.Since(start)
	for i := range 8 {
		reset()
		d := length * time.Duration(i) / 8
		run, _ := runCmd(ctx, bin, marks, args...)
		run.Stderr = nil
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(d)
		run.Process.Kill()
		run.Wait()
		again, stderr := runCmd(ctx, bin, marks, args...)
		if err := again.Run(); err != nil {
			t.Fatalf("killed at %v of %v, the next run: %v\n%s", d, length, err, stderr)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(got) != want.String() {
			t.Fatalf("killed at %v of %v, then run again: out.txt = %q", d, length, got)
		}
	}
}
