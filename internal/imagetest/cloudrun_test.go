package imagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/videocheck"
)

// cloudRunUser is the USER of every Cloud Run image helios-scaffold writes.
const cloudRunUser = "65532:65532"

// TestCloudRunService builds the default Cloud Run service image and runs
// it as Cloud Run would: its USER, PORT set. It answers the contract's
// success, failure, 400 and 405 cases and exits 0 on SIGTERM.
func TestCloudRunService(t *testing.T) {
	p := setup(t)
	repo := project(t, nil, "init", "cloudrun", "--module", "example.com/service", "--project", "my-project")
	const tag = "localhost/imagetest-cloudrun-service:test"
	buildImage(t, p, repo, tag)
	checkUser(t, p, tag)

	jobs := sharedDir(t)
	spec := `{"chunks": [
		{"id": 0, "outputFile": "a.txt", "command": "sh -c 'echo rendered; id -u'"},
		{"id": 1, "outputFile": "b.txt", "command": "sh -c 'echo broken >&2; exit 3'"}]}`
	if err := os.WriteFile(filepath.Join(jobs, "job.json"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	c := p.start(t, "--network", "host", "-e", "PORT="+strconv.Itoa(port), "-v", jobs+":/jobs:ro", tag)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitListening(t, c, url[len("http://"):len(url)-1])

	tests := []struct {
		name, method, body string
		status             int
		check              func(map[string]any) string
	}{
		{"success", "POST", `{"jobPath": "/jobs/job.json", "chunkIndex": 0}`, 200, func(b map[string]any) string {
			return want(b["exitCode"] == 0.0 && b["stdout"] == "rendered\n65532\n", "exit 0 and the command's stdout, run as 65532")
		}},
		{"failure", "POST", `{"jobPath": "/jobs/job.json", "chunkIndex": 1}`, 500, func(b map[string]any) string {
			return want(b["exitCode"] == 3.0 && b["stderr"] == "broken\n" && b["message"] != nil, "exit 3, its stderr and a message")
		}},
		{"not JSON", "POST", `{"jobPath":`, 400, func(b map[string]any) string {
			return want(b["message"] == "Invalid JSON payload", "the contract's message")
		}},
		{"GET", "GET", "", 405, func(b map[string]any) string {
			return want(b["message"] == "Method Not Allowed", "the contract's message")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := call(t, tt.method, url, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if msg := tt.check(body); msg != "" {
				t.Errorf("%s; got %v", msg, body)
			}
			if tt.status == 405 && header.Get("Allow") != "POST" {
				t.Errorf("Allow: %q, want POST", header.Get("Allow"))
			}
		})
	}
	if code := c.stop(t); code != 0 {
		t.Errorf("exit code %d on SIGTERM, want 0", code)
	}
}

// TestCloudRunHeliosService builds the --deps helios Cloud Run service
// image over a Helios project with an npm lockfile, and renders a real
// chunk in it, the spec emitted by the image's own Helios CLI, the spec
// and assets read from and the output written to fake-gcs-server.
func TestCloudRunHeliosService(t *testing.T) {
	p := setup(t)
	repo := project(t, withLockfile, "init", "cloudrun", "--module", "example.com/render",
		"--project", "my-project", "--deps", "helios")
	const tag = "localhost/imagetest-cloudrun-helios:test"
	buildRenderImage(t, p, repo, tag, startSnapshotArchive(t))
	checkUser(t, p, tag)
	checkOverrides(t, p, tag)
	j, gcs := heliosJobInGCS(t, p, tag)

	port := freePort(t)
	c := p.start(t, "--network", "host", "-e", "PORT="+strconv.Itoa(port), "-e", gcs.Env(), tag)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitListening(t, c, url[len("http://"):len(url)-1])
	ch := j.chunks[0]
	// Twice: the warm renderer starts on the first, and is kept for the
	// second, on this warm instance.
	for i := range 2 {
		start := time.Now()
		status, _, body := call(t, "POST", url, fmt.Sprintf(`{"jobPath": "gs://renders/jobs/job.json", "chunkIndex": %d}`, ch.ID))
		if status != 200 || body["renderer"] != "warm" {
			t.Fatalf("chunk %d: status %d: %v; want 200, rendered warm", ch.ID, status, body)
		}
		t.Logf("chunk %d (%d frames) rendered warm in the image, call %d: %v", ch.ID, ch.frameCount(t), i+1, time.Since(start).Round(time.Millisecond))
	}
	if logs := c.logs(); strings.Contains(logs, "warm renderer (pid") {
		t.Errorf("the warm renderer was not kept between the calls:\n%s", tail(logs, 4<<10))
	}
	obj, ok := gcs.Object("renders", "out/"+ch.OutputFile)
	if !ok {
		t.Fatalf("chunk %d: no gs://renders/out/%s", ch.ID, ch.OutputFile)
	}
	checkVideo(t, ch, obj.Content)
	if code := c.stop(t); code != 0 {
		t.Errorf("exit code %d on SIGTERM, want 0", code)
	}

	// The same chunk through the Helios CLI, in the same image: the same
	// frames, as close to the warm ones as two renders of the CLI are.
	cold := p.start(t, "--network", "host", "-e", "PORT="+strconv.Itoa(port), "-e", gcs.Env(), "-e", "HELIOS_WARM_RENDERER=off", tag)
	waitListening(t, cold, url[len("http://"):len(url)-1])
	status, _, body := call(t, "POST", url, fmt.Sprintf(`{"jobPath": "gs://renders/jobs/job.json", "chunkIndex": %d}`, ch.ID))
	if status != 200 || body["renderer"] != "process" {
		t.Fatalf("chunk %d with HELIOS_WARM_RENDERER=off: status %d: %v; want 200, rendered by the CLI", ch.ID, status, body)
	}
	cli, _ := gcs.Object("renders", "out/"+ch.OutputFile)
	checkVideo(t, ch, cli.Content)
	if p := psnrMin(t, obj.Content, cli.Content); p < 40 {
		t.Errorf("chunk %d: warm frames within %.1f dB of the CLI's, want at least 40 (the CLI against itself: about 53)", ch.ID, p)
	}
	cold.stop(t)
}

// psnrMin is the least PSNR, in dB, of a frame of video a against the
// same frame of b.
func psnrMin(t *testing.T, a, b []byte) float64 {
	t.Helper()
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a.mp4"), filepath.Join(dir, "b.mp4")
	os.WriteFile(fa, a, 0o644)
	os.WriteFile(fb, b, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := videocheck.PSNRMin(ctx, fa, fb)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCloudRunHeliosJob builds the --deps helios Cloud Run job image over
// a project with no npm lockfile (the image installs the CLI from the
// generated .helios/package.json) and runs its tasks as Cloud Run would:
// CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT set, the spec in
// HELIOS_JOB_PATH. Each task renders its chunk into fake-gcs-server.
// Then the same image's smoke step is tried (testSmokeRender).
func TestCloudRunHeliosJob(t *testing.T) {
	p := setup(t)
	repo := project(t, compositionOnly, "init", "cloudrun", "--kind", "job", "--module", "example.com/job",
		"--project", "my-project", "--deps", "helios", "--tasks", "2")
	if _, err := os.Stat(filepath.Join(repo, ".helios/package.json")); err != nil {
		t.Fatalf("no lockfile, yet no .helios/package.json: %v", err)
	}
	const tag = "localhost/imagetest-cloudrun-job:test"
	pin, version := buildRenderImage(t, p, repo, tag, nil)
	checkUser(t, p, tag)
	checkOverrides(t, p, tag)
	j, gcs := heliosJobInGCS(t, p, tag)
	for task := range 2 {
		out, err := p.run(5*time.Minute, "run", "--rm", "--network", "host", "-e", gcs.Env(),
			"-e", "HELIOS_JOB_PATH=gs://renders/jobs/job.json",
			"-e", "CLOUD_RUN_TASK_INDEX="+strconv.Itoa(task), "-e", "CLOUD_RUN_TASK_COUNT=2", tag)
		if err != nil {
			t.Fatalf("task %d: %v\n%s", task, err, out)
		}
	}
	for _, ch := range j.chunks {
		obj, ok := gcs.Object("renders", "out/"+ch.OutputFile)
		if !ok {
			t.Fatalf("chunk %d: no gs://renders/out/%s", ch.ID, ch.OutputFile)
		}
		checkVideo(t, ch, obj.Content)
	}
	t.Run("idle_chunk", func(t *testing.T) { testIdleTask(t, p, tag, gcs) })
	t.Run("smoke_render", func(t *testing.T) { testSmokeRender(t, p, repo, pin, version) })
}

// testIdleTask runs a task of image whose chunk prints a line and then
// hangs, as the Helios CLI does under a browser that closes its page:
// with HELIOS_CHUNK_IDLE_TIMEOUT=3s the task kills it within a few seconds
// and exits 124, saying why.
func testIdleTask(t *testing.T, p *podman, image string, gcs *gcstest.Server) {
	t.Helper()
	gcs.PutObject("renders", "jobs/hang.json",
		[]byte(`{"chunks": [{"id": 0, "outputFile": "x.mp4", "command": "sh -c 'echo Initializing renderer...; sleep 600'"}]}`))
	start := time.Now()
	out, err := p.run(2*time.Minute, "run", "--rm", "--network", "host", "-e", gcs.Env(),
		"-e", "HELIOS_JOB_PATH=gs://renders/jobs/hang.json", "-e", "HELIOS_CHUNK_IDLE_TIMEOUT=3s",
		"-e", "CLOUD_RUN_TASK_INDEX=0", "-e", "CLOUD_RUN_TASK_COUNT=1", image)
	took := time.Since(start)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 124 {
		t.Fatalf("a hanging chunk: the task ended with %v, want exit 124\n%s", err, out)
	}
	if msg := err.Error(); !strings.Contains(msg, "chunk 0: no output for 3 s; killed") {
		t.Errorf("the task does not say the chunk was idle:\n%s", tail(msg, 4<<10))
	}
	if took > 45*time.Second {
		t.Errorf("the idle chunk's task took %v, want the 3 s timeout and a container's start and stop", took.Round(time.Second))
	}
	t.Logf("a hanging chunk's task exited 124 after %v (idle timeout 3 s)", took.Round(100*time.Millisecond))
}

// heliosJobInGCS emits a job with the image's Helios CLI and serves it
// from a fake GCS: gs://renders/jobs/job.json, its assets (the
// composition) under gs://renders/project and its outputs to
// gs://renders/out.
func heliosJobInGCS(t *testing.T, p *podman, image string) (job, *gcstest.Server) {
	t.Helper()
	j := emitJob(t, p, image)
	gcs := gcstest.Start(t)
	gcs.CreateBucket("renders")
	gcs.PutObject("renders", "project/composition.html", readFixture(t, "composition.html"))
	gcs.PutObject("renders", "jobs/job.json", j.with("gs://renders/project", "gs://renders/out"))
	return j, gcs
}

// checkUser wants the image to run as Cloud Run's unprivileged user.
func checkUser(t *testing.T, p *podman, image string) {
	t.Helper()
	if u := strings.TrimSpace(p.must(t, time.Minute, "image", "inspect", "--format", "{{.Config.User}}", image)); u != cloudRunUser {
		t.Errorf("%s runs as %q, want %s", image, u, cloudRunUser)
	}
}

// call sends body to url and decodes the JSON answer, within 5 minutes.
func call(t *testing.T, method, url, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("%s %s: status %d, body %q is not a JSON object", method, url, resp.StatusCode, data)
	}
	return resp.StatusCode, resp.Header, b
}

func want(ok bool, what string) string {
	if ok {
		return ""
	}
	return "want " + what
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), heliosFixture, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
