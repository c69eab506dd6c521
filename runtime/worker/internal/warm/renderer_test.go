package warm

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// script is the warm renderer as the templates write it.
const script = "../../../../templates/common/helios/warm-renderer.mjs.tmpl"

// install writes a project's node_modules with the Helios CLI's
// package.json at cliVersion and the stand-in renderer at its version,
// and returns the CLI's folder.
func install(t *testing.T, cliVersion, rendererVersion string) string {
	t.Helper()
	root := t.TempDir()
	stand, err := os.ReadFile("testdata/renderer.js")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"node_modules/@helios-project/cli/package.json": `{"name": "@helios-project/cli", "version": "` + cliVersion + `", "type": "module"}`,
		"node_modules/@helios-project/renderer/package.json": `{"name": "@helios-project/renderer", "version": "` + rendererVersion +
			`", "type": "module", "exports": {".": "./dist/index.js"}}`,
		"node_modules/@helios-project/renderer/dist/index.js": string(stand),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "node_modules", "@helios-project", "cli")
}

func newRenderer(t *testing.T, cliDir string) (*Renderer, *syncbuf.Buffer) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	mjs := filepath.Join(t.TempDir(), "warm-renderer.mjs") // as the image has it
	if err := os.WriteFile(mjs, data, 0o644); err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	r := &Renderer{Node: node, Script: mjs, CLIDir: cliDir, Env: os.Environ(), Log: log}
	t.Cleanup(r.Close)
	return r, log
}

// chunk is a chunk of input in a fresh workspace.
type chunk struct {
	Chunk
	out, errb *syncbuf.Buffer
}

func newChunk(t *testing.T, input string, flags ...string) chunk {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	mark := "HELIOS_WORKSPACE=" + dir
	c := chunk{out: &syncbuf.Buffer{}, errb: &syncbuf.Buffer{}}
	c.Chunk = Chunk{Dir: dir, Args: append([]string{"render", input}, flags...), Mark: mark,
		Env: append(os.Environ(), "TMPDIR="+tmp, mark, "HELIOS_BROWSER_ARGS=--no-sandbox --headless", "PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium")}
	c.Stdout, c.Stderr = c.out, c.errb
	return c
}

// The output file records what the stand-in was given.
type recorded struct {
	URL     string         `json:"url"`
	Options map[string]any `json:"options"`
	Cwd     string         `json:"cwd"`
	TmpDir  string         `json:"tmpdir"`
}

func readRecord(t *testing.T, name string) recorded {
	t.Helper()
	data, err := os.ReadFile(name)
	var r recorded
	if err != nil || json.Unmarshal(data, &r) != nil {
		t.Fatalf("the output %s: %q, %v", name, data, err)
	}
	return r
}

// A chunk renders as `helios render` would: its lines, the options from
// its flags and the CLI's defaults, in its workspace with its TMPDIR;
// the next chunk on the same process.
func TestRenderAsTheCLI(t *testing.T) {
	r, log := newRenderer(t, install(t, "0.45.2", "1.78.3"))
	ctx := testdeadline.Context(t)
	c := newChunk(t, "ok.html", "-o", "out_part_0.mp4", "--start-frame", "30", "--frame-count", "30", "--width", "1280", "--height", "720", "--quality", "23")
	code, err := r.Render(ctx, c.Chunk)
	if err != nil || code != 0 {
		t.Fatalf("Render = %d, %v; log:\n%s\nstderr:\n%s", code, err, log, c.errb)
	}
	out := filepath.Join(c.Dir, "out_part_0.mp4")
	want := "Initializing renderer...\nInput: file://" + filepath.Join(c.Dir, "ok.html") + "\nOutput: " + out + "\n" +
		"Using custom browser arguments: --no-sandbox --headless\nUsing custom browser executable: /usr/bin/chromium\n" +
		"stand-in rendering ok.html\nRender complete.\n"
	if c.out.String() != want || c.errb.String() != "" {
		t.Errorf("stdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", c.out, c.errb, want)
	}
	rec := readRecord(t, out)
	wantOpts := map[string]any{"width": 1280.0, "height": 720.0, "fps": 30.0, "durationInSeconds": 1.0, "crf": 23.0, "mode": "canvas",
		"startFrame": 30.0, "frameCount": 30.0, "concurrency": 1.0}
	for k, v := range wantOpts {
		if rec.Options[k] != v {
			t.Errorf("option %s = %v, want %v (all: %v)", k, rec.Options[k], v, rec.Options)
		}
	}
	if bc, _ := rec.Options["browserConfig"].(map[string]any); bc["headless"] != true || bc["executablePath"] != "/usr/bin/chromium" {
		t.Errorf("browserConfig %v", rec.Options["browserConfig"])
	}
	if rec.Cwd != c.Dir || rec.TmpDir != filepath.Join(c.Dir, "tmp") {
		t.Errorf("rendered in %s with TMPDIR %s, want the workspace %s and its tmp", rec.Cwd, rec.TmpDir, c.Dir)
	}
	pid := r.p.pid
	c2 := newChunk(t, "ok.html", "-o", "b.mp4", "--no-headless")
	if code, err := r.Render(ctx, c2.Chunk); err != nil || code != 0 || r.p == nil || r.p.pid != pid {
		t.Fatalf("second chunk: %d, %v; want it on the same renderer (pid %d)", code, err, pid)
	}
	if bc, _ := readRecord(t, filepath.Join(c2.Dir, "b.mp4")).Options["browserConfig"].(map[string]any); bc["headless"] != false {
		t.Errorf("--no-headless: browserConfig %v", bc)
	}
}

// What fails is the chunk's answer, as the CLI gives it, and the
// renderer is replaced, as the CLI's process exits: nothing the failed
// render left (a timer, a rejection) reaches the next chunk. A renderer
// that dies (during a chunk or between two), hangs past the deadline,
// writes a line too long for the protocol or grows past its bound is
// replaced, and what the chunk started is gone.
func TestRenderFailures(t *testing.T) {
	cli := install(t, "0.45.2", "1.78.3")
	for _, tc := range []struct {
		input    string
		flags    []string
		deadline time.Duration
		maxRSS   int64
		code     int
		err      error
		stderr   string
		replaced bool
		pause    time.Duration // before the next chunk
	}{
		{input: "fail.html", code: 1, stderr: "Render failed: boom\n", replaced: true},
		{input: "ok.html", flags: []string{"--start-frame", "x"}, code: 1, stderr: "Render failed: start-frame must be a valid number\n", replaced: true},
		{input: "stale.html", code: 1, stderr: "Render failed: stale\n", replaced: true, pause: 400 * time.Millisecond},
		{input: "bigline.html", err: ErrCrashed, replaced: true},
		{input: "exitlater.html", replaced: true, pause: 400 * time.Millisecond},
		{input: "crash.html", err: ErrCrashed, replaced: true},
		{input: "hang.html", deadline: 2 * time.Second, code: -1, err: context.DeadlineExceeded, replaced: true},
		{input: "grow.html", maxRSS: 150 << 20, replaced: true},
		{input: "detached.html"},
	} {
		t.Run(tc.input, func(t *testing.T) {
			r, log := newRenderer(t, cli)
			r.MaxRSS = tc.maxRSS
			ctx := testdeadline.Context(t)
			warmUp := newChunk(t, "ok.html")
			if code, err := r.Render(ctx, warmUp.Chunk); code != 0 || err != nil {
				t.Fatalf("warm-up: %d, %v\n%s", code, err, log)
			}
			pid := r.p.pid
			c := newChunk(t, tc.input, tc.flags...)
			cctx := ctx
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			code, err := r.Render(cctx, c.Chunk)
			if code != tc.code || !errors.Is(err, tc.err) || tc.err == nil && err != nil || !strings.HasSuffix(c.errb.String(), tc.stderr) {
				t.Errorf("Render = %d, %v, stderr %q; want %d, %v, %q\nlog:\n%s", code, err, c.errb, tc.code, tc.err, tc.stderr, log)
			}
			if left := procfs.WithEntry(c.Mark); len(left) > 0 {
				t.Errorf("processes of the chunk left: %v", left)
			}
			time.Sleep(tc.pause) // what the chunk left to happen later
			next := newChunk(t, "ok.html")
			if code, err := r.Render(ctx, next.Chunk); code != 0 || err != nil || next.errb.String() != "" {
				t.Errorf("the next chunk: %d, %v, stderr %q\n%s", code, err, next.errb, log)
			}
			if replaced := r.p.pid != pid; replaced != tc.replaced {
				t.Errorf("renderer replaced: %v, want %v\nlog:\n%s", replaced, tc.replaced, log)
			}
			if tc.replaced && procfs.Running(pid) {
				t.Errorf("the replaced renderer (pid %d) still runs", pid)
			}
		})
	}
}

// A renderer that renders a chunk takes no other: the second is
// unavailable at once. Versions it was not tested with keep it off.
func TestRenderUnavailable(t *testing.T) {
	ctx := testdeadline.Context(t)
	r, _ := newRenderer(t, install(t, "0.45.2", "1.78.3"))
	hang := newChunk(t, "hang.html")
	hctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.Render(hctx, hang.Chunk) })
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(hang.out.String(), "stand-in rendering") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := r.Render(ctx, newChunk(t, "ok.html").Chunk); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "busy") {
		t.Errorf("a chunk while another renders: %v, want busy", err)
	}
	cancel()
	wg.Wait()

	for _, tc := range []struct{ cli, renderer, want string }{
		{"0.46.0", "1.78.3", "@helios-project/cli 0.46.0 is not a version the warm renderer was tested with"},
		{"0.45.2", "1.79.0", "@helios-project/renderer 1.79.0 is not a version the warm renderer was tested with"},
	} {
		r, _ := newRenderer(t, install(t, tc.cli, tc.renderer))
		for range 2 { // and it stays off
			if _, err := r.Render(ctx, newChunk(t, "ok.html").Chunk); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("cli %s, renderer %s: %v, want %q", tc.cli, tc.renderer, err, tc.want)
			}
		}
	}
}

// Orphans of the renderer's children that end on their own, which the
// worker adopts as a subreaper, are reaped after each chunk: a warm
// instance piles up no zombies.
func TestRenderReapsOrphans(t *testing.T) {
	r, log := newRenderer(t, install(t, "0.45.2", "1.78.3"))
	ctx := testdeadline.Context(t)
	for range 3 {
		if code, err := r.Render(ctx, newChunk(t, "orphan.html").Chunk); code != 0 || err != nil {
			t.Fatalf("Render = %d, %v\n%s", code, err, log)
		}
		time.Sleep(300 * time.Millisecond) // the orphan ends, a zombie of this process
	}
	if code, err := r.Render(ctx, newChunk(t, "ok.html").Chunk); code != 0 || err != nil {
		t.Fatalf("Render = %d, %v\n%s", code, err, log)
	}
	kids, _ := procfs.Children(os.Getpid())
	var zombies []int
	for _, pid := range kids {
		if st, ok := procfs.StatOf(pid); ok && st.State == 'Z' {
			zombies = append(zombies, pid)
		}
	}
	if len(zombies) > 0 {
		t.Errorf("zombie children left: %v", zombies)
	}
}
