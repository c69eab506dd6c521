package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/filetree"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/holdproxy"
	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestCloudRunJobKill: run --target cloudrun-job SIGKILLed (kill -9: no
// handler runs, nothing is said or cleaned up) at each point of its
// life: once jobs.run has started the execution, before run has its
// answer (held halfway by a proxy); while it follows the execution it
// started (whose task 1 waits); while --attach follows one that --detach
// started; while it downloads the outputs of the execution that
// completed (the download of part_2.txt held halfway, its bytes so far
// in a temporary file of --out); and while the mergeCommand writes the
// merged file (a part of it written, a child of it left running). In
// each case the same command after it (--attach for the detached one)
// goes on with that execution, the only one there is, rather than
// starting another; collects; and merges what a clean run merges,
// leaving in --out exactly the files that a clean run leaves, with no
// temporary file or attach file, and nothing of the killed run running.
func TestCloudRunJobKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	clean := cleanJobTree(t)

	for _, tc := range []struct {
		name string
		// detach starts the execution with --detach; the run killed and
		// the one after it are --attach.
		detach bool
		// at is where run is killed: "starting", "following",
		// "collecting" or "merging".
		at string
		// ok are the chunks that the run after the kill collects; the
		// killed one recorded the others.
		ok int
	}{
		{name: "starting", at: "starting", ok: 3},
		{name: "following", at: "following", ok: 3},
		{name: "attach following", detach: true, at: "following", ok: 3},
		{name: "collecting", at: "collecting", ok: 3},
		{name: "merging", at: "merging", ok: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := startJobTest(t, "gs://jobs/")
			spec, want := writeTextJob(t, 3)
			dir := filepath.Dir(spec)
			attach := filepath.Join(dir, ".job.helios-run.attach")
			args := []string{spec, "--progress", "json", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs"}

			// What holds run where it is to be killed, what says it is
			// there, and what lets it go on once it is killed.
			var what, marks string
			var there func() bool
			var release func()
			seen := 0 // the Admin API's requests before run starts
			switch tc.at {
			case "following":
				j.tasks.hold[1], j.tasks.release = true, filepath.Join(t.TempDir(), "release")
				what, there = "run reading the execution", func() bool {
					for _, r := range j.api.Requests()[seen:] {
						if r.Method == http.MethodGet && strings.Contains(r.Path, "/executions/") {
							return true
						}
					}
					return false
				}
				release = func() {
					if err := os.WriteFile(j.tasks.release, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			case "starting":
				h := holdJobRun(t, j.api)
				what, there, release = "run waiting for the answer to jobs.run", h.Held, h.Release
			case "collecting":
				h := holdDownload(t, j.gcs, "part_2.txt")
				what, there, release = "a torn download of part_2.txt in --out", func() bool { return tornTemp(dir, "part_2.txt") }, h.Release
			case "merging":
				marks = holdMerge(t, dir)
				what, there = "the mergeCommand writing out.txt", func() bool {
					_, err := os.Stat(filepath.Join(marks, "merging"))
					return err == nil
				}
				release = func() {} // the mergeCommand holds its first run only
			default:
				t.Fatalf("no kill point %q", tc.at)
			}

			killed, again := args, args
			if tc.detach {
				runJobCmd(t, 0, append(args, "--detach")...)
				names := j.api.Executions(testJob)
				if len(names) != 1 {
					t.Fatalf("executions after --detach: %v, want one", names)
				}
				killed = append(slices.Clone(args), "--attach", shortName(names[0]))
				again = killed
			}
			seen = len(j.api.Requests())
			out := killRunAt(ctx, t, bin, killed, what, there)
			names := j.api.Executions(testJob)
			if len(names) != 1 {
				t.Fatalf("executions after the kill: %v, want one\n%s", names, out)
			}
			switch tc.at {
			case "following":
				if x, _ := j.api.Execution(names[0]); x.CompletionTime != "" {
					t.Errorf("execution %s completed while its task 1 was held", names[0])
				}
			case "collecting":
				if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); len(got) > 0 {
					t.Errorf("out.txt = %q, merged by a run killed while it collected", got)
				}
			case "merging":
				if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(got) != "chunk 0\n" {
					t.Errorf("out.txt = %q after the kill, want the part that the mergeCommand had written", got)
				}
				merge, child := mergePIDs(t, marks)
				if runtime.GOOS == "linux" { // where procfs sees processes
					waitFor(t, fmt.Sprintf("the mergeCommand (pid %d) ending with the run killed", merge), func() bool { return !procfs.Running(merge) })
					if !procfs.Running(child) {
						t.Fatalf("the mergeCommand's child (pid %d) did not outlive the run killed", child)
					}
				}
			}
			// The attach file names the execution from its start until its
			// outputs are collected.
			if _, err := os.Stat(attach); (tc.at == "following" || tc.at == "collecting") && err != nil {
				t.Errorf("the attach file is gone after a kill before the outputs were collected: %v", err)
			}
			release()

			events, stdout, stderr := runJobCmd(t, 0, again...)
			checkFile(t, filepath.Join(dir, "out.txt"), want)
			if now := j.api.Executions(testJob); !slices.Equal(now, names) {
				t.Errorf("executions after the run that followed the kill: %v, want only %v\n%s", now, names, stderr)
			}
			if s := kinds(events, "execution", "started"); len(s) > 0 {
				t.Errorf("the run after the kill started an execution: %v", s)
			}
			if tc.ok > 0 { // else every chunk was recorded: nothing to follow
				if s := kinds(events, "execution", "succeeded"); len(s) != 1 || s[0]["execution"] != names[0] {
					t.Errorf("the run after the kill saw %v succeed, want %s\n%s%s", s, names[0], stdout, stderr)
				}
			}
			if s := kinds(events, "summary", ""); len(s) != 1 || s[0]["ok"] != float64(tc.ok) || s[0]["skipped"] != float64(3-tc.ok) || s[0]["failed"] != 0.0 {
				t.Errorf("summary %v: want %d chunks collected now, the others recorded before the kill", s, tc.ok)
			}
			if _, err := os.Stat(attach); err == nil {
				t.Error("the attach file is left after the collect")
			}
			if _, child := mergePIDs(t, marks); tc.at == "merging" && procfs.Running(child) {
				t.Errorf("the killed run's mergeCommand's child (pid %d) still runs after the run after it:\n%s", child, stderr)
			}
			got := filetree.Names(filetree.Read(t, dir))
			if !slices.Equal(got, clean) {
				t.Errorf("--out after the kill and the run after it: %v, want what a clean run leaves: %v", got, clean)
			}
			if left := leftTemps(t, dir); len(left) > 0 {
				t.Errorf("temporary files left in --out: %v", left)
			}
		})
	}
}

// cleanJobTree is what a clean run of writeTextJob's job leaves in its
// folder (--out): the names of its files.
func cleanJobTree(t *testing.T) []string {
	t.Helper()
	startJobTest(t, "gs://jobs/")
	spec, want := writeTextJob(t, 3)
	runJobCmd(t, 0, spec, "--progress", "none", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs")
	checkFile(t, filepath.Join(filepath.Dir(spec), "out.txt"), want)
	return filetree.Names(filetree.Read(t, filepath.Dir(spec)))
}

// killRunAt starts the built CLI's run with args, waits until there
// says it is at what, SIGKILLs it there and waits for it; it fails
// unless the kill ended it. It returns what run printed.
func killRunAt(ctx context.Context, t *testing.T, bin string, args []string, what string, there func() bool) string {
	t.Helper()
	// Files rather than pipes: Wait returns once run is dead, whatever
	// a child of its still holds open.
	logs := t.TempDir()
	stdout, err := os.Create(filepath.Join(logs, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(logs, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	printed := func() string {
		o, _ := os.ReadFile(stdout.Name())
		e, _ := os.ReadFile(stderr.Name())
		return string(o) + string(e)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"run"}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, what, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("run ended (%v) before %s:\n%s", err, what, printed())
		default:
		}
		return there()
	})
	kerr := cmd.Process.Kill()
	err = <-exited
	if exit, ok := errors.AsType[*exec.ExitError](err); !ok || exit.Exited() {
		t.Fatalf("run killed at %s: %v (kill: %v)\n%s", what, err, kerr, printed())
	}
	return printed()
}

// holdDownload points this process's Cloud Storage clients, and those
// of the CLI it starts, at a holdproxy in front of srv that holds the
// downloads of the objects called name halfway.
func holdDownload(t *testing.T, srv *gcstest.Server, name string) *holdproxy.Proxy {
	t.Helper()
	h := holdproxy.Start(t, srv.URL(), func(q *http.Request) bool {
		return q.Method == http.MethodGet && q.URL.Query().Get("alt") == "media" && strings.HasSuffix(q.URL.Path, "/"+name)
	})
	t.Setenv(gcstest.EmulatorHostEnv, strings.TrimPrefix(h.URL(), "http://"))
	return h
}

// holdJobRun points this process's Admin API clients, and those of the
// CLI it starts, at a holdproxy in front of srv that holds the answers
// to jobs.run halfway: the execution is started, and run does not yet
// know which.
func holdJobRun(t *testing.T, srv *runapitest.Server) *holdproxy.Proxy {
	t.Helper()
	h := holdproxy.Start(t, srv.URL, func(q *http.Request) bool {
		return q.Method == http.MethodPost && strings.HasSuffix(q.URL.Path, ":run")
	})
	t.Setenv(envRunAPI, h.URL()+"/")
	return h
}

// tornTemp reports whether dir holds a temporary file of a download of
// name (as fanout.Collect names them) with some of its bytes.
func tornTemp(dir, name string) bool {
	temps, _ := filepath.Glob(filepath.Join(dir, "."+name+".helios-*.tmp"))
	for _, tmp := range temps {
		if info, err := os.Stat(tmp); err == nil && info.Size() > 0 {
			return true
		}
	}
	return false
}

// holdMerge replaces the mergeCommand's script of writeTextJob's job in
// dir by one that, the first time it runs, writes the first part to the
// merged file, starts a child that waits, says so (its pid and the
// child's in MARKS/merging) and waits; it never writes the rest. The
// waits end when the test does. It returns MARKS.
func holdMerge(t *testing.T, dir string) string {
	t.Helper()
	marks := t.TempDir()
	hold := filepath.Join(marks, "hold")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(hold) }) // what outlived its run ends
	q := func(name string) string { return strconv.Quote(filepath.Join(marks, name)) }
	script := fmt.Sprintf(`set -eu
test "$1" = merge
out=$2; shift 2
if mkdir %[1]s 2>/dev/null; then
	cat "$1" > "$out"
	(while test -e %[2]s; do sleep 0.1; done) &
	echo "$$ $!" > %[3]s && mv %[3]s %[4]s
	while test -e %[2]s; do sleep 0.1; done
	exit 3
fi
cat "$@" > "$out"
`, q("merged-once"), q("hold"), q("pids"), q("merging"))
	if err := os.WriteFile(filepath.Join(dir, "helios"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return marks
}

// mergePIDs are the pids of holdMerge's mergeCommand and of its child;
// 0 and 0 before it has said them (or without marks).
func mergePIDs(t *testing.T, marks string) (int, int) {
	t.Helper()
	if marks == "" {
		return 0, 0
	}
	data, err := os.ReadFile(filepath.Join(marks, "merging"))
	if err != nil {
		return 0, 0
	}
	var merge, child int
	if _, err := fmt.Sscan(string(data), &merge, &child); err != nil {
		t.Fatalf("%s: %q, %v", filepath.Join(marks, "merging"), data, err)
	}
	return merge, child
}

// leftTemps lists the files under dir that a run writes before renaming
// them into place, or that it removes once done with them: temporary
// files of helios-scaffold, of a download or of a state, and later
// attempts' outputs.
func leftTemps(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	for _, name := range filetree.Names(filetree.Read(t, dir)) {
		if base := filepath.Base(name); strings.HasSuffix(base, ".tmp") || strings.Contains(base, ".attempt-") {
			left = append(left, name)
		}
	}
	return append(left, filetree.Temps(t, dir)...)
}
