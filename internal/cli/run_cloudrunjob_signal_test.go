package cli

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestCloudRunJobSIGINT: SIGINT while run follows an execution (whose
// task 1 waits) stops run alone, with 130: the execution goes on, and
// its attach file stays. Once the task is released, the same command
// follows that execution, rather than starting another, and merges.
func TestCloudRunJobSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	ctx := testdeadline.Context(t)
	bin := buildCLI(ctx, t)
	j := startJobTest(t, "gs://jobs/")
	j.tasks.hold[1], j.tasks.release = true, filepath.Join(t.TempDir(), "release")
	spec, want := writeTextJob(t, 3)
	args := []string{spec, "--progress", "none", "--target", "cloudrun-job", "--job", testJob, "--no-auth", "--upload", "gs://jobs/runs"}
	cmd := exec.CommandContext(ctx, bin, append([]string{"run"}, args...)...)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "run reading the execution", func() bool {
		for _, r := range j.api.Requests() {
			if r.Method == http.MethodGet && strings.Contains(r.Path, "/executions/") {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exitCodeOf(cmd.Wait()); code != 130 || !strings.Contains(stderr.String(), "goes on in the cloud") {
		t.Fatalf("run after SIGINT: exit %d, want 130 and that the execution goes on:\n%s", code, stderr.String())
	}
	names := j.api.Executions(testJob)
	if x, _ := j.api.Execution(names[0]); len(names) != 1 || x.CompletionTime != "" {
		t.Errorf("executions %v: want the one started, still running", names)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(spec), ".job.helios-run.attach")); err != nil {
		t.Errorf("the attach file is gone: %v", err)
	}
	if err := os.WriteFile(j.tasks.release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	runJobCmd(t, 0, args...)
	checkFile(t, filepath.Join(filepath.Dir(spec), "out.txt"), want)
	if n := len(j.api.Executions(testJob)); n != 1 {
		t.Errorf("%d executions, want the one that went on", n)
	}
}
