package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/filetree"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestKill SIGKILLs init aws at many points of its run, and checks that a
// kill never leaves a partial file: every file at its final path is exactly
// what a clean run writes, the answers file is absent or complete, and a
// following run succeeds and leaves no temporary file behind. Random kills
// land while the files are renamed into place about once in 240 runs, so
// the test also kills the run right before each of its renames, which it
// pauses at (generator.RenamePauseEnv), the answers file's last.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and starts hundreds of processes")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	base := t.TempDir()
	args := func(dir string) []string {
		return []string{"init", "aws", "--dir", dir, "--module", "example.com/killed", "--replace-runtime", "../helios"}
	}

	// Clean runs give the reference tree, and how long a run takes.
	ref := filepath.Join(base, "ref")
	clean := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		if out, err := exec.CommandContext(ctx, bin, args(ref)...).CombinedOutput(); err != nil {
			t.Fatalf("clean run: %v\n%s", err, out)
		}
		clean = min(clean, time.Since(start))
	}
	want := filetree.Read(t, ref)
	if len(want) != 8 {
		t.Fatalf("clean run wrote %d files, want 8: %v", len(want), filetree.Names(want))
	}

	// Fixed delays of 0 to a few ms, then many random ones, drawn from a
	// window that closes in on the end of a run, where the files are
	// written and renamed: between the longest delay that left nothing
	// and the shortest by which the run had finished.
	fixed := []time.Duration{0, 0, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
		time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond}
	const runs = 250
	lo, hi := time.Duration(0), clean*3/2
	rng := rand.New(rand.NewPCG(1, 2))

	deadline := time.Now().Add(60 * time.Second)
	outcomes := map[string]int{}
	for i := range len(fixed) + runs {
		if time.Now().After(deadline) {
			t.Logf("time is up after %d of %d runs", i, len(fixed)+runs)
			break
		}
		d := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
		if i < len(fixed) {
			d = fixed[i]
		}
		dir := filepath.Join(base, fmt.Sprintf("run%03d", i))
		outcome := killAfter(ctx, t, bin, args(dir), d)
		got := filetree.Read(t, dir)
		checkComplete(t, dir, d, got, want)
		switch {
		case outcome == "exited":
			hi = max(min(hi, d*21/20), lo+2*time.Millisecond)
		case len(got) == 0 && len(filetree.Temps(t, dir)) > 0:
			outcome = "only temporary files"
			lo = min(max(lo, d*19/20), hi-2*time.Millisecond)
		case len(got) == 0:
			outcome = "nothing written"
			lo = min(max(lo, d*19/20), hi-2*time.Millisecond)
		case len(got) < len(want):
			outcome = "partly renamed"
		default:
			outcome = "all renamed"
		}
		outcomes[outcome]++

		// A normal run after the kill finishes the job.
		rerun(ctx, t, bin, args(dir), dir, d, want)
		if t.Failed() {
			return
		}
	}
	t.Logf("clean run %v; last window %v to %v; outcomes of the kills: %v", clean, lo, hi, outcomes)

	// Kills between renames: the n-th run pauses right before its n-th
	// rename and is killed there, with n-1 files renamed into place, until
	// a run has fewer renames than n and finishes.
	landed := 0
	for n := 1; n <= len(want)+1; n++ {
		dir := filepath.Join(base, fmt.Sprintf("rename%02d", n))
		at := killAtRename(ctx, t, bin, args(dir), n)
		if at == "" {
			break
		}
		landed++
		got := filetree.Read(t, dir)
		checkComplete(t, dir, at, got, want)
		if len(got) != n-1 {
			t.Errorf("kill at %s: %d files at their final paths, want %d: %v", at, len(got), n-1, filetree.Names(got))
		}
		rerun(ctx, t, bin, args(dir), dir, at, want)
		if t.Failed() {
			return
		}
	}
	random := 0
	for _, k := range outcomes {
		random += k
	}
	t.Logf("kills during the renames: %d of %d random kill attempts (partly renamed), %d driven, one before each rename",
		outcomes["partly renamed"], random, landed)
	if landed != len(want) {
		t.Errorf("%d kills landed before a rename, want one before each of the %d renames", landed, len(want))
	}
}

// rerun runs the CLI normally in dir after a kill at at, and checks that
// it finishes the job: the tree is want, with no temporary file left.
func rerun(ctx context.Context, t *testing.T, bin string, args []string, dir string, at any, want map[string][]byte) {
	t.Helper()
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("run after a kill at %v: %v\n%s", at, err, out)
	}
	after := filetree.Read(t, dir)
	for name, data := range want {
		if !bytes.Equal(after[name], data) {
			t.Errorf("after a kill at %v and a normal run, %s is not what a clean run writes", at, name)
		}
	}
	if len(after) != len(want) {
		t.Errorf("after a kill at %v and a normal run, files %v, want %v", at, filetree.Names(after), filetree.Names(want))
	}
	if left := filetree.Temps(t, dir); len(left) > 0 {
		t.Errorf("after a kill at %v and a normal run, temporary files remain: %v", at, left)
	}
}

// buildCLI builds the helios-scaffold command (the module root's main)
// into a temporary directory.
func buildCLI(ctx context.Context, t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "helios-scaffold")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, generator.ModulePath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killAfter starts the CLI, SIGKILLs it after d and waits for it; it returns
// "exited" when the run ended on its own first, "killed" otherwise.
func killAfter(ctx context.Context, t *testing.T, bin string, args []string, d time.Duration) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if d > 0 {
		time.Sleep(d)
	}
	kerr := cmd.Process.Kill()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "exited"
	case errors.As(err, &exit) && !exit.Exited():
		return "killed"
	}
	t.Fatalf("run killed at %v failed on its own: %v (kill: %v)", d, err, kerr)
	return ""
}

// killAtRename starts the CLI with generator.RenamePauseEnv set to n, and
// SIGKILLs it once it says that it has paused before its n-th rename; it
// returns where the run was killed ("the pause before rename n of m:
// path"), or "" when the run had fewer than n renames and finished on its
// own.
func killAtRename(ctx context.Context, t *testing.T, bin string, args []string, n int) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", generator.RenamePauseEnv, n))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if at, ok := strings.CutPrefix(sc.Text(), generator.RenamePauseMarker); ok {
			kerr := cmd.Process.Kill()
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Exited() {
				t.Fatalf("run paused before rename %d and killed: %v (kill: %v)", n, err, kerr)
			}
			return "the pause before rename " + at
		}
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run to pause before rename %d: %v\n%s%s", n, err, stdout.Bytes(), strings.Join(lines, "\n"))
	}
	return ""
}

// checkComplete fails unless every file of got, other than temporary
// files, is one of want with the same content; at says where the run was
// killed.
func checkComplete(t *testing.T, dir string, at any, got, want map[string][]byte) {
	t.Helper()
	for name, data := range got {
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("kill at %v: %s is not a file a clean run writes", at, filepath.Join(dir, name))
		case !bytes.Equal(data, w):
			t.Errorf("kill at %v: %s is incomplete or wrong (%d bytes, want %d)", at, filepath.Join(dir, name), len(data), len(w))
		}
	}
	if _, ok := got[generator.AnswersFile]; ok && len(got) != len(want) {
		t.Errorf("kill at %v: %s was written before the files it records: %v", at, generator.AnswersFile, filetree.Names(got))
	}
}

// TestKillDuringMerge SIGKILLs a run that merges an edited template.yaml
// with a changed input: every file is, at every kill, either as it was
// before the run or as a clean run leaves it, never partial; the answers
// file is the old one until every other file is renamed; and a normal run
// after the kill gives the clean run's tree.
func TestKillDuringMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and starts many processes")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("merging needs git")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	base := t.TempDir()
	prepare := func(dir string) {
		args := []string{"init", "aws", "--dir", dir, "--module", "example.com/killed", "--replace-runtime", "../helios"}
		if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("init: %v\n%s", err, out)
		}
		name := filepath.Join(dir, "template.yaml")
		data, _ := os.ReadFile(name)
		edited := bytes.Replace(data, []byte("      Description: Runs"), []byte("      Tags:\n        team: video\n      Description: Runs"), 1)
		if err := os.WriteFile(name, edited, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	merge := func(dir string) []string {
		return []string{"init", "aws", "--dir", dir, "--memory", "4096", "--arch", "x86_64"}
	}

	ref := filepath.Join(base, "ref")
	prepare(ref)
	before := filetree.Read(t, ref)
	clean := time.Duration(1<<63 - 1)
	start := time.Now()
	if out, err := exec.CommandContext(ctx, bin, merge(ref)...).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("merge       template.yaml")) {
		t.Fatalf("clean merge run: %v\n%s", err, out)
	}
	clean = time.Since(start)
	after := filetree.Read(t, ref)

	// check checks the tree that a kill at d left in dir, and that a
	// normal run then gives the clean run's tree. It returns how many
	// files the run had renamed into place: those that are as after it
	// and not as before.
	check := func(dir string, d any) (renamed int) {
		got := filetree.Read(t, dir)
		for name, data := range got {
			if !bytes.Equal(data, before[name]) && !bytes.Equal(data, after[name]) {
				t.Fatalf("kill at %v: %s is neither as before nor as after the run (%d bytes)", d, name, len(data))
			}
		}
		for name, data := range after {
			if b, ok := before[name]; (!ok || !bytes.Equal(b, data)) && bytes.Equal(got[name], data) {
				renamed++
			}
		}
		if bytes.Equal(got[generator.AnswersFile], after[generator.AnswersFile]) {
			for name := range after {
				if !bytes.Equal(got[name], after[name]) {
					t.Fatalf("kill at %v: the new answers are in place before %s", d, name)
				}
			}
		}
		if out, err := exec.CommandContext(ctx, bin, merge(dir)...).CombinedOutput(); err != nil {
			t.Fatalf("run after a kill at %v: %v\n%s", d, err, out)
		}
		for name, data := range after {
			if got := filetree.Read(t, dir)[name]; !bytes.Equal(got, data) {
				t.Fatalf("after a kill at %v and a normal run, %s differs from the clean run's", d, name)
			}
		}
		return renamed
	}

	deadline := time.Now().Add(45 * time.Second)
	rng := rand.New(rand.NewPCG(3, 4))
	random, partly, changed := 0, 0, 0
	for name, data := range after {
		if b, ok := before[name]; !ok || !bytes.Equal(b, data) {
			changed++
		}
	}
	for i := 0; i < 80 && time.Now().Before(deadline); i++ {
		dir := filepath.Join(base, fmt.Sprintf("run%03d", i))
		prepare(dir)
		d := time.Duration(rng.Int64N(int64(clean*3/2) + 1))
		killAfter(ctx, t, bin, merge(dir), d)
		random++
		if r := check(dir, d); r > 0 && r < changed {
			partly++
		}
	}

	// Kills between renames, as in TestKill: the n-th run pauses right
	// before its n-th rename and is killed there, with n-1 files renamed.
	landed := 0
	for n := 1; n <= changed+1; n++ {
		dir := filepath.Join(base, fmt.Sprintf("rename%02d", n))
		prepare(dir)
		at := killAtRename(ctx, t, bin, merge(dir), n)
		if at == "" {
			break
		}
		landed++
		if r := check(dir, at); r != n-1 {
			t.Errorf("kill at %s: %d files renamed into place, want %d", at, r, n-1)
		}
	}
	t.Logf("kills during the renames: %d of %d random kill attempts (partly renamed), %d driven, one before each of the %d renames",
		partly, random, landed, changed)
	if landed == 0 || landed != changed {
		t.Errorf("%d kills landed before a rename, want one before each of the %d renames", landed, changed)
	}
}
