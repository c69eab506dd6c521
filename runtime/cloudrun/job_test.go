package cloudrun_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
)

var jobBuild struct {
	once sync.Once
	dir  string
	err  error
}

// jobBinary builds internal/cmd/cloudrunjob, the job entry point as
// generated, once for the package's tests.
func jobBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the job binary")
	}
	jobBuild.once.Do(func() {
		if jobBuild.dir, jobBuild.err = os.MkdirTemp("", "cloudrunjob-"); jobBuild.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(jobBuild.dir, "cloudrunjob"),
			"github.com/helios-project/helios-scaffold/internal/cmd/cloudrunjob")
		if out, err := cmd.CombinedOutput(); err != nil {
			jobBuild.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if jobBuild.err != nil {
		t.Fatalf("building cloudrunjob: %v", jobBuild.err)
	}
	return filepath.Join(jobBuild.dir, "cloudrunjob")
}

// taskRun is one finished task process.
type taskRun struct {
	code   int
	stdout string
}

// runTask runs the job binary as Cloud Run runs task index of count, with
// env added; it is killed if it runs until t's deadline.
func runTask(t *testing.T, index, count, attempt int, env ...string) taskRun {
	t.Helper()
	cmd := exec.CommandContext(testdeadline.Context(t), jobBinary(t))
	cmd.Env = workerEnv(append([]string{
		cloudrun.EnvTaskIndex + "=" + strconv.Itoa(index),
		cloudrun.EnvTaskCount + "=" + strconv.Itoa(count),
		cloudrun.EnvTaskAttempt + "=" + strconv.Itoa(attempt),
	}, env...)...)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := taskRun{stdout: out.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("task %d of %d: %v", index, count, err)
	}
	return r
}

// sevenChunks writes a spec of 7 chunks, ids 10 to 16, each appending its
// id to a file of its own in marks; chunk 15 then exits 3.
func sevenChunks(t *testing.T, marks string) string {
	t.Helper()
	var chunks []map[string]any
	for i := range 7 {
		id := 10 + i
		cmd := fmt.Sprintf(`sh -c 'echo %d >> %s/chunk-%d; echo out > out_%d.mp4'`, id, marks, id, id)
		if id == 15 {
			cmd = fmt.Sprintf(`sh -c 'echo %d >> %s/chunk-%d; exit 3'`, id, marks, id)
		}
		chunks = append(chunks, map[string]any{"id": id, "startFrame": i * 30, "frameCount": 30,
			"outputFile": fmt.Sprintf("out_%d.mp4", id), "command": cmd})
	}
	data, err := json.Marshal(map[string]any{"chunks": chunks})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seven.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// With 7 chunks and any task count, every chunk runs exactly once; a task
// exits 3 when its share holds chunk 15, 0 otherwise, including the tasks
// that have no chunk at all.
func TestJobTasksShareTheChunks(t *testing.T) {
	for _, n := range []int{7, 3, 10} {
		t.Run(fmt.Sprintf("%d tasks", n), func(t *testing.T) {
			marks, root := t.TempDir(), t.TempDir()
			spec := sevenChunks(t, marks)
			for i := range n {
				r := runTask(t, i, n, 0, cloudrun.EnvJobPath+"="+spec, "HELIOS_WORKSPACE_ROOT="+root)
				want := 0
				if slices.Contains(cloudrun.Task{Index: i, Count: n}.Positions(7), 5) {
					want = 3
				}
				if r.code != want {
					t.Errorf("task %d of %d exited %d, want %d:\n%s", i, n, r.code, want, r.stdout)
				}
				if i >= 7 && !strings.Contains(r.stdout, "nothing to do") {
					t.Errorf("task %d of %d, which has no chunk, did not say so:\n%s", i, n, r.stdout)
				}
			}
			for id := 10; id <= 16; id++ {
				data, err := os.ReadFile(filepath.Join(marks, fmt.Sprintf("chunk-%d", id)))
				if err != nil || string(data) != fmt.Sprintf("%d\n", id) {
					t.Errorf("chunk %d ran %q times (%v), want once", id, data, err)
				}
			}
			if !emptyDir(t, root) {
				t.Errorf("workspaces left: %v", dirNames(root))
			}
		})
	}
}

// A task's exit code is its first failing chunk's: n, 128+n for signal n,
// 124 for its timeout or idle timeout, 1 when it could not run or its
// output could not be uploaded; 2 when the task cannot start.
func TestJobTaskExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		command string
		env     []string
		want    int
		say     string
		kind    string // the errorKind of the chunk's line
	}{
		{"success", "true", nil, 0, `"message":"chunk done"`, ""},
		{"exit 3", "sh -c 'exit 3'", nil, 3, `"exitCode":3`, "failed"},
		{"killed by SIGKILL", "sh -c 'kill -9 $$'", nil, 137, "SIGKILL", "failed"},
		{"chunk timeout", "sleep 30", []string{"HELIOS_CHUNK_TIMEOUT=300ms"}, cloudrun.ExitTimeout, "timed out", "timeout"},
		{"chunk idle", "sh -c 'echo started; sleep 30'", []string{"HELIOS_CHUNK_IDLE_TIMEOUT=1s"}, cloudrun.ExitTimeout,
			"chunk 0: no output for 1 s; killed", "idle"},
		{"command not found", "helios-no-such-command-4c1d", nil, 1, "helios-no-such-command-4c1d", "command"},
		{"output missing", "true", []string{"HELIOS_OUTPUT_URL=" + t.TempDir()}, 1, "without writing its outputFile out.mp4", "output"},
		// The store on a closed loopback port: the upload fails.
		{"output not uploaded", "sh -c 'echo x > out.mp4'", []string{"HELIOS_OUTPUT_URL=gs://renders/out", "STORAGE_EMULATOR_HOST=127.0.0.1:1"},
			1, "uploading out.mp4 to gs://renders/out/out.mp4", "store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			spec := outputSpecFile(t, tc.command, "out.mp4")
			r := runTask(t, 0, 1, 0, append([]string{cloudrun.EnvJobPath + "=" + spec, "HELIOS_WORKSPACE_ROOT=" + root}, tc.env...)...)
			if r.code != tc.want || !strings.Contains(r.stdout, tc.say) {
				t.Errorf("exit %d, want %d; output lacks %q?\n%s", r.code, tc.want, tc.say, r.stdout)
			}
			if kind := `"errorKind":"` + tc.kind + `"`; (tc.kind != "") != strings.Contains(r.stdout, kind) {
				t.Errorf("errorKind %q: not as the output says:\n%s", tc.kind, r.stdout)
			}
			if !emptyDir(t, root) {
				t.Errorf("workspaces left: %v", dirNames(root))
			}
		})
	}
}

func TestJobTaskCannotStart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"chunks":"none"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		say  string
	}{
		{"no HELIOS_JOB_PATH", nil, "HELIOS_JOB_PATH is not set"},
		{"spec missing", []string{cloudrun.EnvJobPath + "=" + missing}, missing},
		{"spec invalid", []string{cloudrun.EnvJobPath + "=" + bad}, "Invalid JobSpec: missing chunks array"},
		{"index out of range", []string{cloudrun.EnvJobPath + "=" + bad, cloudrun.EnvTaskIndex + "=5"}, "CLOUD_RUN_TASK_INDEX=5"},
		{"bad setting", []string{cloudrun.EnvJobPath + "=" + bad, "HELIOS_OUTPUT_LIMIT=lots"}, "HELIOS_OUTPUT_LIMIT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runTask(t, 0, 1, 0, tc.env...)
			if tc.name == "index out of range" {
				r = runTask(t, 5, 1, 0, tc.env...)
			}
			if r.code != cloudrun.ExitCannotStart || !strings.Contains(r.stdout, tc.say) || !strings.Contains(r.stdout, `"severity":"ERROR"`) {
				t.Errorf("exit %d, want %d, and an ERROR line naming %q:\n%s", r.code, cloudrun.ExitCannotStart, tc.say, r.stdout)
			}
		})
	}
}

// SIGTERM during a chunk (sleep 30, here 31) kills its process group and ends the task at
// once, with a non-zero exit code.
func TestJobTaskSIGTERM(t *testing.T) {
	root := t.TempDir()
	spec := specFile(t, t.TempDir(), "sleep 31") // a duration no other test sleeps
	cmd := exec.Command(jobBinary(t))
	cmd.Env = workerEnv(cloudrun.EnvJobPath+"="+spec, "HELIOS_WORKSPACE_ROOT="+root)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "31")) > 0 }) {
		t.Fatalf("the chunk did not start:\n%s", out.String())
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		took := time.Since(start)
		ee, ok := errors.AsType[*exec.ExitError](err)
		// Waiting for the chunk would take 31 s; ending at once takes
		// well under 10 s, even on a loaded machine.
		if !ok || ee.ExitCode() == 0 || took > 10*time.Second {
			t.Errorf("after SIGTERM: %v after %v, want a non-zero exit at once\n%s", err, took, out.String())
		}
	case <-testdeadline.After(t):
		t.Fatalf("still running after SIGTERM:\n%s", out.String())
	}
	if left := procsWithArgs("sleep", "31"); len(left) > 0 && !waitFor(t, func() bool { return len(procsWithArgs("sleep", "31")) == 0 }) {
		t.Errorf("chunk processes left: %v", left)
	}
	if !emptyDir(t, root) {
		t.Errorf("workspaces left: %v", dirNames(root))
	}
}

// With a Cloud Storage output location, every chunk's output lands in the
// bucket; a second attempt of a task skips the chunks already there and
// runs the one that is missing.
func TestJobTaskOutputsAndRetry(t *testing.T) {
	srv := gcstest.Start(t)
	srv.CreateBucket("renders")
	marks := t.TempDir()
	var chunks []map[string]any
	for id := range 7 {
		chunks = append(chunks, map[string]any{"id": id, "outputFile": fmt.Sprintf("part_%d.mp4", id),
			"command": fmt.Sprintf(`sh -c 'echo %d >> %s/chunk-%d; echo frames-%d > part_%d.mp4'`, id, marks, id, id, id)})
	}
	data, _ := json.Marshal(map[string]any{"outputUrl": "gs://renders/out", "chunks": chunks})
	srv.PutObject("renders", "jobs/job-7.json", data)
	env := []string{srv.Env(), cloudrun.EnvJobPath + "=gs://renders/jobs/job-7.json", "HELIOS_WORKSPACE_ROOT=" + t.TempDir()}
	logged := map[string]string{} // outputUrl: outputSha256, from the tasks' chunk lines
	for i := range 3 {
		r := runTask(t, i, 3, 0, env...)
		if r.code != 0 {
			t.Fatalf("task %d of 3 exited %d:\n%s", i, r.code, r.stdout)
		}
		for line := range strings.Lines(r.stdout) {
			var l struct{ Message, OutputURL, OutputSha256 string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "chunk done" {
				logged[l.OutputURL] = l.OutputSha256
			}
		}
	}
	for id := range 7 {
		obj, ok := srv.Object("renders", fmt.Sprintf("out/part_%d.mp4", id))
		if !ok || string(obj.Content) != fmt.Sprintf("frames-%d\n", id) {
			t.Errorf("output of chunk %d: %q (present %v)", id, obj.Content, ok)
		}
		sum := sha256.Sum256(obj.Content)
		if where := fmt.Sprintf("gs://renders/out/part_%d.mp4", id); logged[where] != hex.EncodeToString(sum[:]) {
			t.Errorf("chunk %d's line says outputSha256 %q, want %x, the stored object's", id, logged[where], sum)
		}
	}
	// Task 1 of 3 holds chunks 1 and 4: lose chunk 4's output, retry.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL()+"/storage/v1/b/renders/o/"+url.PathEscape("out/part_4.mp4"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("deleting chunk 4's output: %v %v", resp, err)
	}
	resp.Body.Close()
	r := runTask(t, 1, 3, 1, env...)
	if r.code != 0 || !strings.Contains(r.stdout, "chunk skipped: its output exists from an earlier attempt") {
		t.Fatalf("retried task: exit %d:\n%s", r.code, r.stdout)
	}
	for id, want := range map[int]string{0: "0\n", 1: "1\n", 4: "4\n4\n"} {
		got, _ := os.ReadFile(filepath.Join(marks, fmt.Sprintf("chunk-%d", id)))
		if string(got) != want {
			t.Errorf("chunk %d ran %q, want %q", id, got, want)
		}
	}
	if _, ok := srv.Object("renders", "out/part_4.mp4"); !ok {
		t.Error("the retry did not upload chunk 4's output again")
	}
}

// outputSpecFile writes a one-chunk job spec running cmd that names
// outputFile.
func outputSpecFile(t *testing.T, cmd, outputFile string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.json")
	b, _ := json.Marshal(map[string]any{"chunks": []any{map[string]any{"id": 0, "command": cmd, "outputFile": outputFile}}})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
