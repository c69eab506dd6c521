package imagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/lambdatest"
)

// heliosFixture is the e2e tests' Helios project: a composition and a
// package.json whose lockfile installs the Helios CLI, with the stand-in
// for its missing dependency.
const heliosFixture = "internal/e2e/testdata/helios-project"

// withLockfile are the fixture's files that make a project with an npm
// lockfile; the composition alone makes one without.
var (
	withLockfile = []string{"package.json", "package-lock.json", "composition.html",
		"npm-stubs/infrastructure/package.json", "npm-stubs/infrastructure/index.js"}
	compositionOnly = []string{"composition.html"}
)

// runtimeDir is where each project holds this checkout's runtime, inside
// the build context, as --replace-runtime names it.
const runtimeDir = "third_party/helios-scaffold"

// moduleRoot is this checkout.
func moduleRoot(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root, err := lambdatest.ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// project makes a repository: the fixture's files named, this checkout
// copied to runtimeDir, then helios-scaffold init with args (and
// --replace-runtime ./runtimeDir), run in process, and go mod tidy.
func project(t *testing.T, fixture []string, args ...string) string {
	t.Helper()
	root := moduleRoot(t)
	repo := t.TempDir()
	for _, name := range fixture {
		copyFile(t, filepath.Join(root, heliosFixture, name), filepath.Join(repo, name))
	}
	copyRuntime(t, root, filepath.Join(repo, runtimeDir))
	args = append(args, "--dir", repo, "--replace-runtime", "./"+runtimeDir)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := cli.Run(ctx, args, &out, &out); code != 0 {
		t.Fatalf("helios-scaffold %s: exit %d\n%s", strings.Join(args, " "), code, out.String())
	}
	if strings.Contains(out.String(), "docker build and sam build") {
		t.Errorf("init warns that the image cannot see the runtime, which is inside the repository:\n%s", out.String())
	}
	goCmd(t, repo, "mod", "tidy")
	return repo
}

// copyRuntime copies the module at root to dir, without what no build
// needs: git, tests, test data, node_modules and the examples.
func copyRuntime(t *testing.T, root, dir string) {
	t.Helper()
	skipDirs := map[string]bool{".git": true, "node_modules": true, "testdata": true, "examples": true}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		copyFile(t, p, filepath.Join(dir, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in dir, within 5 minutes.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// sharedDir is a new folder that the images' unprivileged users may
// read and write.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// job is a spec that the image's own Helios CLI emitted.
type job struct {
	spec   map[string]any
	chunks []chunk
}

type chunk struct {
	ID         int64  `json:"id"`
	OutputFile string `json:"outputFile"`
	Command    string `json:"command"`
}

// frameCount is the --frame-count of a chunk's command.
func (c chunk) frameCount(t *testing.T) int {
	t.Helper()
	m := regexp.MustCompile(`--frame-count (\d+)`).FindStringSubmatch(c.Command)
	if m == nil {
		t.Fatalf("chunk %d: no --frame-count in %q", c.ID, c.Command)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// emitJob runs helios render --emit-job with the image's Helios CLI, over
// the fixture's composition, and returns the spec: two chunks of 30
// frames at 320x180.
func emitJob(t *testing.T, p *podman, image string) job {
	t.Helper()
	dir := sharedDir(t)
	copyFile(t, filepath.Join(moduleRoot(t), heliosFixture, "composition.html"), filepath.Join(dir, "composition.html"))
	p.must(t, 3*time.Minute, "run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "helios",
		"-v", dir+":/job", "-w", "/job", image,
		"render", "composition.html", "-o", "out.mp4", "--width", "320", "--height", "180", "--fps", "30",
		"--duration", "2", "--concurrency", "2", "--emit-job", "job.json")
	data, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		t.Fatalf("helios render --emit-job wrote no spec: %v", err)
	}
	var j job
	var parsed struct {
		Chunks []chunk `json:"chunks"`
	}
	if err := json.Unmarshal(data, &j.spec); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &parsed); err != nil || len(parsed.Chunks) != 2 {
		t.Fatalf("emitted spec: %v, %d chunks, want 2\n%s", err, len(parsed.Chunks), data)
	}
	if _, ok := j.spec["id"]; ok {
		t.Errorf("the emitted spec has an id; the workers are tested with the CLI's shape, which has none")
	}
	j.chunks = parsed.Chunks
	return j
}

// with returns the spec with assetsUrl and outputUrl set.
func (j job) with(assetsURL, outputURL string) []byte {
	spec := map[string]any{}
	for k, v := range j.spec {
		spec[k] = v
	}
	spec["assetsUrl"], spec["outputUrl"] = assetsURL, outputURL
	data, _ := json.Marshal(spec)
	return data
}

// checkVideo runs ffprobe on a chunk's output: an H.264 video of the
// chunk's frame count.
func checkVideo(t *testing.T, c chunk, data []byte) {
	t.Helper()
	file := filepath.Join(t.TempDir(), filepath.Base(c.OutputFile))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s (%d bytes): %v", c.OutputFile, len(data), err)
	}
	var probe struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Frames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 {
		t.Fatalf("ffprobe %s: %v\n%s", c.OutputFile, err, out)
	}
	s := probe.Streams[0]
	if want := strconv.Itoa(c.frameCount(t)); s.Codec != "h264" || s.Frames != want {
		t.Errorf("chunk %d: %s is %s with %s frames, want h264 with %s", c.ID, c.OutputFile, s.Codec, s.Frames, want)
	}
}

// checkOverrides wants the npm overrides of the Helios recipe to have
// held in the image: @helios-project/infrastructure is the local stand-in
// (the registry has none) and @helios-project/player the pinned version.
func checkOverrides(t *testing.T, p *podman, image string) {
	t.Helper()
	script := `for (const m of ["infrastructure", "player"]) {
		const pkg = require("/opt/helios/node_modules/@helios-project/" + m + "/package.json");
		console.log(m, pkg.version, /stub|stand-in/i.test(JSON.stringify(pkg)));
	}`
	out := p.must(t, time.Minute, "run", "--rm", "--network", "none", "--entrypoint", "node", image, "-e", script)
	if want := "infrastructure 0.25.0 true\nplayer 0.78.1 false\n"; !strings.Contains(out, want) {
		t.Errorf("the npm overrides did not hold in %s: got\n%s\nwant\n%s", image, out, want)
	}
}
