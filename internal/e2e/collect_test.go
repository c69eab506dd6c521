package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestCollectOnlyAfterJobTasks is the Cloud Run jobs flow of
// docs/scaffolding.md ("Cloud Run jobs") and docs/run.md: the
// cloud-run-job example's tasks render every chunk into the output bucket
// (as gcloud run jobs execute would start them), then run --collect-only
// fetches the outputs and merges. With one output deleted,
// it names that chunk and exits 1 without merging; once it is back, it
// merges.
func TestCollectOnlyAfterJobTasks(t *testing.T) {
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
	srv := gcstest.Start(t)
	jobBucket, jobKey := splitGS(t, env["HELIOS_JOB_PATH"])
	srv.PutObject(jobBucket, jobKey, []byte(readString(t, filepath.Join(dir, "job.json"))))
	outBucket, outPrefix := splitGS(t, env["HELIOS_OUTPUT_URL"])
	srv.CreateBucket(outBucket)
	for i := range 7 {
		if code, out := runJobTask(t, bin, srv, env, i, 7); code != 0 {
			t.Fatalf("task %d exited %d:\n%s", i, code, out)
		}
	}
	// The merge is the spec's "helios merge out.mp4 PART...": a stand-in
	// on PATH concatenates the parts.
	tools := t.TempDir()
	writeFile(t, filepath.Join(tools, "helios"), "#!/bin/sh\nout=$2; shift 2; cat \"$@\" > \"$out\"\n")
	os.Chmod(filepath.Join(tools, "helios"), 0o755)
	t.Setenv("PATH", tools+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(gcstest.EmulatorHostEnv, srv.Host())
	out := t.TempDir()
	// In the example's repository, the output folder is the one its
	// answers give the tasks (job.yaml's HELIOS_OUTPUT_URL); elsewhere,
	// --output-url names it.
	inRepo := true
	collect := func(want int) string {
		var stdout, stderr bytes.Buffer
		ctx := testdeadline.Context(t)
		args := []string{"run", env["HELIOS_JOB_PATH"], "--collect-only", "--out", out, "--no-verify"} // the parts are text
		if inRepo {
			t.Chdir(dir)
		} else {
			t.Chdir(t.TempDir())
			args = append(args, "--output-url", env["HELIOS_OUTPUT_URL"])
		}
		if code := cli.Run(ctx, args, &stdout, &stderr); code != want {
			t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, stdout.String(), stderr.String())
		}
		return stderr.String()
	}

	gone := outPrefix + "/out_part_4.mp4"
	part, _ := srv.Object(outBucket, gone)
	if err := srv.Fake().Backend().DeleteObject(outBucket, gone); err != nil {
		t.Fatal(err)
	}
	if msg := collect(1); !strings.Contains(msg, "1 of 7 outputs are not there: chunks [4] (first: gs://"+outBucket+"/"+gone+")") {
		t.Errorf("with chunk 4's output gone: %s", msg)
	}
	if _, err := os.Stat(filepath.Join(out, "out.mp4")); err == nil {
		t.Error("merged with an output missing")
	}
	srv.PutObject(outBucket, gone, part.Content)
	inRepo = false
	collect(0)
	var want strings.Builder
	for c := range 7 {
		fmt.Fprintf(&want, "rendering frames %d+30 of job\n", c*30)
	}
	if got, err := os.ReadFile(filepath.Join(out, "out.mp4")); err != nil || string(got) != want.String() {
		t.Errorf("out.mp4 = %q, %v; want %q", got, err, want.String())
	}
}
