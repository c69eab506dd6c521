package worker_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// fakeCLI is a Helios CLI's bin for these tests: run as a process, it
// writes "process" to its -o.
const fakeCLI = `#!/usr/bin/env node
import fs from 'node:fs';
const args = process.argv.slice(2);
const out = args.includes('-o') ? args[args.indexOf('-o') + 1] : 'output.mp4';
console.log('the CLI, as a process');
fs.writeFileSync(out, 'process');
`

// heliosInstall writes node_modules with a Helios CLI (fakeCLI, at a
// tested version), the warm renderer's tests' stand-in renderer and the
// warm renderer's script, and returns the PATH entry of its .bin and the
// script.
func heliosInstall(t *testing.T) (bin, script string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH")
	}
	root := t.TempDir()
	stand, err := os.ReadFile("internal/warm/testdata/renderer.js")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("../../templates/common/helios/warm-renderer.mjs.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"node_modules/@helios-project/cli/package.json":       `{"name": "@helios-project/cli", "version": "0.45.2", "type": "module"}`,
		"node_modules/@helios-project/cli/bin/helios.js":      fakeCLI,
		"node_modules/@helios-project/renderer/package.json":  `{"name": "@helios-project/renderer", "version": "1.78.3", "type": "module", "exports": {".": "./dist/index.js"}}`,
		"node_modules/@helios-project/renderer/dist/index.js": string(stand),
		"warm-renderer.mjs": string(tmpl),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(root, "node_modules", ".bin")
	os.MkdirAll(bin, 0o755)
	if err := os.Symlink("../@helios-project/cli/bin/helios.js", filepath.Join(bin, "helios")); err != nil {
		t.Fatal(err)
	}
	return bin, filepath.Join(root, "warm-renderer.mjs")
}

// answer is what the stand-in renderer recorded in the chunk's output.
type answer struct {
	Cwd    string `json:"cwd"`
	TmpDir string `json:"tmpdir"`
	PID    int    `json:"pid"`
}

// A `helios render` chunk renders in the warm renderer, the same output
// file in the same workspace, its lines in the result, "warm" in the
// Renderer; one it does not take (an unknown flag, another command), or
// any chunk with HELIOS_WARM_RENDERER=off, runs as a process.
func TestWarmRenderer(t *testing.T) {
	bin, script := heliosInstall(t)
	ctx := testdeadline.Context(t)
	for _, tc := range []struct {
		name, command string
		off           bool
		renderer      string
		stdout        string
	}{
		{"helios render", "helios render ok.html -o chunk_0.mp4 --start-frame 0 --frame-count 10", false, worker.RendererWarm, "stand-in rendering ok.html\nRender complete.\n"},
		{"unknown flag", "helios render ok.html -o chunk_0.mp4 --emit-job job.json", false, worker.RendererProcess, "the CLI, as a process\n"},
		{"off", "helios render ok.html -o chunk_0.mp4", true, worker.RendererProcess, "the CLI, as a process\n"},
		{"not helios", "sh -c 'echo a shell'", false, worker.RendererProcess, "a shell\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.WarmRendererScript, cfg.WarmRenderer = script, !tc.off
			w := newWorker(cfg, worker.WithEnv("PATH="+bin+":"+os.Getenv("PATH")))
			res := w.Run(ctx, jobspec.Request{JobPath: writeSpec(t, oneChunk(tc.command))})
			if !res.OK() || res.Renderer != tc.renderer || !strings.HasSuffix(string(res.Stdout), tc.stdout) {
				t.Fatalf("%+v: stdout %q, stderr %q; want ok, %s, stdout ending %q", res, res.Stdout, res.Stderr, tc.renderer, tc.stdout)
			}
		})
	}
}

// Chunks on a warm instance share one renderer, each in its own
// workspace, with its TMPDIR; one that hangs, printing nothing, is
// stopped by the idle watch, with what it started, and the next chunk
// renders in a new renderer.
func TestWarmRendererDeadlines(t *testing.T) {
	bin, script := heliosInstall(t)
	ctx := testdeadline.Context(t)
	cfg := testConfig(t)
	cfg.WarmRendererScript = script
	cfg.ChunkTimeout = 3 * time.Second
	cfg.ChunkIdleTimeout = time.Second
	dir := t.TempDir()
	spec := jobspec.Spec{ID: "job-1"}
	for i, input := range []string{"ok.html", "ok.html", "hang.html", "ok.html"} {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), OutputFile: "out.mp4", Command: "helios render " + input + " -o out.mp4"})
	}
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, marshalSpec(t, spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.OutputURL = "file://" + t.TempDir()
	w := newWorker(cfg, worker.WithEnv("PATH="+bin+":"+os.Getenv("PATH")))
	var seen []answer
	for i, want := range []error{nil, nil, worker.ErrIdle, nil} {
		res := w.Run(ctx, jobspec.Request{JobPath: path, ChunkIndex: int64(i)})
		if !errors.Is(res.Err, want) || res.Renderer != worker.RendererWarm || (want == nil) != res.OK() {
			t.Fatalf("chunk %d: %+v (%v), want %v, warm", i, res, res.Err, want)
		}
		if want != nil {
			continue
		}
		data, err := os.ReadFile(strings.TrimPrefix(res.OutputURL, "file://"))
		var a answer
		if err != nil || json.Unmarshal(data, &a) != nil || !strings.HasPrefix(a.TmpDir, filepath.Dir(a.Cwd)+"/") {
			t.Fatalf("chunk %d's output %q (%v): want the stand-in's record, TMPDIR in the workspace", i, data, err)
		}
		seen = append(seen, a)
	}
	if seen[0].PID != seen[1].PID || seen[2].PID == seen[1].PID {
		t.Errorf("renderers %d, %d, then %d after the hang: want the first two alike, the last new", seen[0].PID, seen[1].PID, seen[2].PID)
	}
	assertNoProc(t, "sleep", "600")
}
