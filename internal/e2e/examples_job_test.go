package e2e

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestExampleCloudRunJobTasks runs every task of the cloud-run-job
// example as Cloud Run would, with the environment its job.yaml declares
// and a fake Cloud Storage: every chunk of the example's spec is rendered
// into the output bucket, whatever the task count an execution asks for;
// an execution given a HELIOS_JOB_PATH outside the job bucket (the
// job.yaml's HELIOS_ALLOWED_JOB_PATHS) fails every task with exit code 2,
// before Cloud Storage gets a request.
func TestExampleCloudRunJobTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	dir, _ := filepath.Abs("examples/cloud-run-job")
	bin := filepath.Join(t.TempDir(), "render-job")
	goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-o", bin, "./cmd/render-job")
	job, err := checks.Job([]byte(readString(t, filepath.Join(dir, "job.yaml"))))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	taskCount := int(job.Spec.Template.Spec.TaskCount)
	if taskCount != 7 || env["HELIOS_JOB_PATH"] == "" || env["HELIOS_OUTPUT_URL"] == "" || env["HELIOS_ALLOWED_JOB_PATHS"] == "" {
		t.Fatalf("job.yaml: taskCount %d, env %v; want 7, both locations and the job bucket", taskCount, env)
	}
	for _, tasks := range []int{taskCount, 3} { // as deployed, and an execution with --tasks 3
		t.Run(fmt.Sprintf("%d tasks", tasks), func(t *testing.T) {
			srv := gcstest.Start(t)
			jobBucket, jobKey := splitGS(t, env["HELIOS_JOB_PATH"])
			srv.PutObject(jobBucket, jobKey, []byte(readString(t, filepath.Join(dir, "job.json"))))
			outBucket, outPrefix := splitGS(t, env["HELIOS_OUTPUT_URL"])
			srv.CreateBucket(outBucket)
			for i := range tasks {
				code, out := runJobTask(t, bin, srv, env, i, tasks)
				if code != 0 {
					t.Fatalf("task %d of %d exited %d:\n%s", i, tasks, code, out)
				}
			}
			for c := range 7 {
				obj, ok := srv.Object(outBucket, fmt.Sprintf("%s/out_part_%d.mp4", outPrefix, c))
				want := fmt.Sprintf("rendering frames %d+30 of job\n", c*30)
				if !ok || string(obj.Content) != want {
					t.Errorf("chunk %d's output: %q (present %v), want %q", c, obj.Content, ok, want)
				}
			}
		})
	}
	t.Run("a spec outside the job bucket", func(t *testing.T) {
		srv := gcstest.Start(t)
		jobBucket, jobKey := splitGS(t, env["HELIOS_JOB_PATH"])
		elsewhere := "gs://" + jobBucket + "-evil/" + jobKey
		srv.PutObject(jobBucket+"-evil", jobKey, []byte(readString(t, filepath.Join(dir, "job.json"))))
		execution := maps.Clone(env)
		execution["HELIOS_JOB_PATH"] = elsewhere // gcloud run jobs execute --update-env-vars
		want := `job path \"` + elsewhere + `\" is outside HELIOS_ALLOWED_JOB_PATHS (` + env["HELIOS_ALLOWED_JOB_PATHS"] + `)`
		before := srv.Requests()
		for i := range taskCount {
			if code, out := runJobTask(t, bin, srv, execution, i, taskCount); code != 2 || !strings.Contains(out, want) {
				t.Errorf("task %d of %d: exit %d, want 2 and a line saying %s:\n%s", i, taskCount, code, want, out)
			}
		}
		if n := srv.Requests() - before; n != 0 {
			t.Errorf("Cloud Storage got %d requests", n)
		}
	})
}

func runJobTask(t *testing.T, bin string, srv *gcstest.Server, env map[string]string, index, count int) (int, string) {
	t.Helper()
	ctx := testdeadline.Context(t)
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), srv.Env(), "HELIOS_WORKSPACE_ROOT="+t.TempDir(),
		"CLOUD_RUN_TASK_INDEX="+strconv.Itoa(index), "CLOUD_RUN_TASK_COUNT="+strconv.Itoa(count), "CLOUD_RUN_TASK_ATTEMPT=0")
	for k, v := range env { // job.yaml's, as Cloud Run sets them
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

func splitGS(t *testing.T, u string) (bucket, key string) {
	t.Helper()
	rest, ok := strings.CutPrefix(u, "gs://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		t.Fatalf("%q is not gs://BUCKET/KEY", u)
	}
	return bucket, key
}
