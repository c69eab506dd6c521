package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// heliosProject is a Helios project: a composition, and a package.json
// whose lockfile installs the Helios CLI (with the stand-in for its missing
// dependency). .ci/run installs it with npm ci.
const heliosProject = "internal/e2e/testdata/helios-project"

// envRequireRender names the variable that, set to 1 (as CI sets it),
// turns the missing Chromium or Helios CLI from a skip into a failure.
const envRequireRender = "HELIOS_REQUIRE_RENDER"

// closedNetworkArgs keep Chromium off the network, which is closed here.
const closedNetworkArgs = "--disable-background-networking --disable-component-update --no-first-run"

// TestRenderHeliosComposition scaffolds a Cloud Run worker with --deps
// helios over a Helios project, reproduces its image's runtime locally (the
// variables and HOME of the Dockerfile's final stage, its user id when the
// test runs as root, Debian's Chromium, the project's node_modules), emits
// a job with the Helios CLI and renders every chunk through the worker
// binary: each output is an MP4/QuickTime file in the output folder, and
// nothing is left in the workspace root or the worker's temp folder. A
// chunk killed by its timeout midway leaves no browser and no file either.
func TestRenderHeliosComposition(t *testing.T) {
	if testing.Short() {
		t.Skip("renders with Chromium; skipped with -short")
	}
	project, _ := filepath.Abs(heliosProject)
	base := sharedTempDir(t)
	repo := filepath.Join(base, "repo")
	for _, name := range []string{"package.json", "package-lock.json", "composition.html",
		"npm-stubs/infrastructure/package.json", "npm-stubs/infrastructure/index.js"} {
		copyFile(t, filepath.Join(project, name), filepath.Join(repo, name))
	}
	root, _ := filepath.Abs(".")
	runCLI(t, 0, "init", "cloudrun", "--dir", repo, "--module", "example.com/render", "--project", "my-project",
		"--replace-runtime", root, "--deps", "helios")
	goCmd(t, repo, nil, "mod", "tidy")
	bin := filepath.Join(base, "worker")
	goCmd(t, repo, []string{"CGO_ENABLED=0"}, "build", "-o", bin, "./cmd/helios-worker")
	imageEnv, user := finalStage(t, filepath.Join(repo, "Dockerfile"))
	requireRenderTools(t, project, imageEnv["PUPPETEER_EXECUTABLE_PATH"])

	// The job, as the Helios CLI emits it, with the composition as its
	// assets and a local folder for the outputs.
	// The workspace root's path must be short (at most 20 characters), as
	// /tmp is: Chromium's socket in the chunk's TMPDIR must fit in 107 bytes.
	assets, out, ws, sysTmp, home := mkdirs(t, base, "assets", "out", "w", "systmp", "home")
	copyFile(t, filepath.Join(project, "composition.html"), filepath.Join(assets, "composition.html"))
	spec := emitJob(t, project, repo, assets, out)

	env := []string{
		"PATH=" + strings.Replace(imageEnv["PATH"], "/opt/helios", project, 1),
		"PUPPETEER_EXECUTABLE_PATH=" + imageEnv["PUPPETEER_EXECUTABLE_PATH"],
		"HELIOS_BROWSER_ARGS=" + imageEnv["HELIOS_BROWSER_ARGS"] + " " + closedNetworkArgs,
		"HOME=" + home, // the image's HOME=/tmp, private to this test
		"TMPDIR=" + sysTmp,
		"HELIOS_WORKSPACE_ROOT=" + ws,
	}
	if imageEnv["HOME"] != "/tmp" {
		t.Errorf("the image's HOME is %q, want /tmp", imageEnv["HOME"])
	}
	call := startRenderWorker(t, bin, user, env)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	processed := map[int64]processedChunk{}
	for _, c := range spec.Chunks {
		start := time.Now()
		r, err := call(ctx, jobspec.Request{JobPath: spec.path, ChunkIndex: c.ID})
		if err != nil || !r.OK() || r.Renderer != worker.RendererProcess {
			t.Fatalf("chunk %d: %+v, %v; want it rendered by the CLI's process", c.ID, r, err)
		}
		t.Logf("chunk %d rendered by the CLI in %v", c.ID, time.Since(start).Round(time.Millisecond))
		processed[c.ID] = processedChunk{file: keep(t, filepath.Join(out, c.OutputFile)), stdout: r.Stdout}
		data, err := os.ReadFile(filepath.Join(out, c.OutputFile))
		if err != nil || len(data) < 12 || !bytes.Equal(data[4:8], []byte("ftyp")) || r.OutputBytes != int64(len(data)) {
			t.Errorf("chunk %d: output %s: %d bytes (%v), want an MP4/QuickTime file of %d bytes", c.ID, c.OutputFile, len(data), err, r.OutputBytes)
		}
	}
	// Killed midway, by a worker with a chunk timeout: no browser outlives
	// the chunk, nothing is left.
	slow := startRenderWorker(t, bin, user, append(env, "HELIOS_CHUNK_TIMEOUT=8s"))
	r, err := slow(ctx, jobspec.Request{JobPath: spec.slowPath, ChunkIndex: 0})
	if err != nil || r.OK() || !strings.Contains(r.Message, "timed out") {
		t.Errorf("the slow chunk: %+v, %v; want it killed for its timeout", r, err)
	}
	if left := chromiumsIn(ws); len(left) > 0 {
		t.Errorf("Chromium processes of the killed chunk still run: %v", left)
	}
	assertEmptyDir(t, ws)
	assertEmptyDir(t, sysTmp)
	t.Run("warm renderer", func(t *testing.T) { testWarmRenderer(t, repo, bin, user, env, spec, out, ws, processed) })
	assertEmptyDir(t, ws)
	t.Run("helios-scaffold run --target local", func(t *testing.T) { testRunHeliosLocal(t, repo, ws, env) })
	t.Run("helios-scaffold run --target cloudrun", func(t *testing.T) { testRunHeliosCloudRun(t, repo, bin, user, env) })
}

// requireRenderTools skips the test, or fails it under HELIOS_REQUIRE_RENDER=1,
// unless the image's browser (Debian's chromium-headless-shell) and the
// project's Helios CLI are installed.
func requireRenderTools(t *testing.T, project, browser string) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(browser); err != nil {
		missing = append(missing, browser+" (apt-get install chromium-headless-shell)")
	}
	if _, err := os.Stat(filepath.Join(project, "node_modules/.bin/helios")); err != nil {
		missing = append(missing, "the Helios CLI (npm ci in "+heliosProject+")")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "Node.js")
	}
	if len(missing) == 0 {
		return
	}
	msg := "no " + strings.Join(missing, ", no ") + ": .ci/run installs them"
	if os.Getenv(envRequireRender) == "1" {
		t.Fatalf("%s, and %s=1 requires this test", msg, envRequireRender)
	}
	t.Skip(msg)
}

// sharedTempDir is a temporary folder that another user (the image's
// 65532) may enter, removed when the test ends.
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "hr") // short: see the workspace root below
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// mkdirs makes folders below base that anyone may write, as /tmp.
func mkdirs(t *testing.T, base string, names ...string) (string, string, string, string, string) {
	t.Helper()
	var dirs []string
	for _, n := range names {
		d := filepath.Join(base, n)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o1777); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs[0], dirs[1], dirs[2], dirs[3], dirs[4]
}

// finalStage returns the ENV of the Dockerfile's final stage and its USER.
func finalStage(t *testing.T, dockerfile string) (map[string]string, string) {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil || len(stages) == 0 {
		t.Fatalf("Dockerfile: %v", err)
	}
	env, user := map[string]string{}, ""
	for _, c := range stages[len(stages)-1].Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = strings.Trim(kv.Value, `"`)
			}
		case *instructions.UserCommand:
			user = c.User
		}
	}
	env["PATH"] = strings.Replace(env["PATH"], "$PATH", os.Getenv("PATH"), 1)
	return env, user
}

// renderSpec is the emitted job, written where the worker reads it.
type renderSpec struct {
	path, slowPath string
	Chunks         []jobspec.Chunk `json:"chunks"`
}

// emitJob runs helios render --emit-job in the repository and writes the
// spec beside it with the assets and output folders, and a second spec
// whose one chunk renders long enough (3000 frames at 1080p) to be killed.
func emitJob(t *testing.T, project, repo, assets, out string) renderSpec {
	t.Helper()
	ctx := testdeadline.Context(t)
	cmd := exec.CommandContext(ctx, filepath.Join(project, "node_modules/.bin/helios"), "render", "composition.html",
		"-o", "out.mp4", "--width", "320", "--height", "180", "--fps", "30", "--duration", "2", "--concurrency", "2",
		"--emit-job", "job.json")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helios render --emit-job: %v\n%s", err, b)
	}
	var job map[string]any
	if err := json.Unmarshal([]byte(readString(t, filepath.Join(repo, "job.json"))), &job); err != nil {
		t.Fatal(err)
	}
	if _, ok := job["id"]; ok {
		t.Errorf("the emitted spec has an id; the worker is written for one without")
	}
	job["assetsUrl"], job["outputUrl"] = "file://"+assets, out
	spec := renderSpec{path: filepath.Join(repo, "render.json"), slowPath: filepath.Join(repo, "slow.json")}
	writeJSON(t, spec.path, job)
	if err := json.Unmarshal([]byte(readString(t, spec.path)), &spec); err != nil || len(spec.Chunks) != 2 {
		t.Fatalf("emitted spec: %v, %d chunks, want 2", err, len(spec.Chunks))
	}
	slow := map[string]any{"assetsUrl": "file://" + assets, "chunks": []map[string]any{{
		"id": 0, "outputFile": "slow.mp4",
		"command": "helios render composition.html -o slow.mp4 --start-frame 0 --frame-count 3000 --width 1920 --height 1080 --fps 30",
	}}}
	writeJSON(t, spec.slowPath, slow)
	return spec
}

func writeJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, name, string(data))
}

// startRenderWorker runs the worker binary with env, as user (the image's
// USER) when the test may switch to it.
func startRenderWorker(t *testing.T, bin, user string, env []string) callFunc {
	t.Helper()
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		uid, gid := imageUser(t, user)
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	}
	return startServer(t, bin, append(env, "HELIOS_PASSTHROUGH=false"), attr)
}

// imageUser parses the Dockerfile's USER uid:gid.
func imageUser(t *testing.T, user string) (uint32, uint32) {
	t.Helper()
	u, g, _ := strings.Cut(user, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("USER %q: want uid:gid", user)
	}
	return uint32(uid), uint32(gid)
}

// chromiumsIn lists the Chromium processes whose command line names a
// folder below dir (their profile in the chunk's TMPDIR).
func chromiumsIn(dir string) []string {
	var left []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte("chromium")) && bytes.Contains(b, []byte(dir)) {
			left = append(left, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return left
}
