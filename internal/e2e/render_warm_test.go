package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/internal/videocheck"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// minPSNR is the least PSNR, in dB, of a frame of a chunk rendered warm
// against the same frame rendered by the Helios CLI. Canvas mode does not
// render the same bytes twice even through the CLI (its WebCodecs encode
// differs from run to run), so frame-for-frame identity cannot be asked.
// Measured here on this composition at 1280x720: the CLI against itself,
// 53.5 dB at the worst frame; warm against the CLI, 50.5 dB; the first 30
// frames against the next 30, 17.6 dB.
const minPSNR = 40

// testWarmRenderer renders every chunk of spec again with the warm
// renderer on, as the image has it (HELIOS_WARM_RENDERER_SCRIPT, the
// .helios/warm-renderer.mjs that init wrote): each answer says "warm",
// each output has the process render's frames (kept in processed), within
// minPSNR of them; a chunk killed by its timeout leaves no browser, and
// the chunk after it renders warm again.
func testWarmRenderer(t *testing.T, repo, bin, user string, env []string, spec renderSpec, out, ws string, processed map[int64]processedChunk) {
	env = append(env, worker.EnvWarmRendererScript+"="+filepath.Join(repo, ".helios", "warm-renderer.mjs"), "HELIOS_CHUNK_TIMEOUT=8s")
	call := startRenderWorker(t, bin, user, env)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, c := range spec.Chunks {
		start := time.Now()
		r, err := call(ctx, jobspec.Request{JobPath: spec.path, ChunkIndex: c.ID})
		if err != nil || !r.OK() || r.Renderer != worker.RendererWarm {
			t.Fatalf("chunk %d: %+v, %v; want it rendered warm", c.ID, r, err)
		}
		t.Logf("chunk %d rendered warm in %v", c.ID, time.Since(start).Round(time.Millisecond))
		warm, cli := filepath.Join(out, c.OutputFile), processed[c.ID].file
		if w, p := cliLines(r.Stdout), cliLines(processed[c.ID].stdout); w != p {
			t.Errorf("chunk %d: the CLI's own lines, warm:\n%s\nthrough the CLI:\n%s", c.ID, w, p)
		}
		if fw, fc := frames(t, warm), frames(t, cli); fw != fc || fw != int(c.FrameCount) {
			t.Errorf("chunk %d: %d frames warm, %d through the CLI; want %d", c.ID, fw, fc, c.FrameCount)
		}
		if p := psnrMin(t, warm, cli); p < minPSNR {
			t.Errorf("chunk %d: its frames warm are within %.1f dB of the CLI's, want at least %d", c.ID, p, minPSNR)
		}
	}
	r, err := call(ctx, jobspec.Request{JobPath: spec.slowPath, ChunkIndex: 0})
	if err != nil || r.OK() || !strings.Contains(r.Message, "timed out") || r.Renderer != worker.RendererWarm {
		t.Errorf("the slow chunk, warm: %+v, %v; want it killed for its timeout", r, err)
	}
	if left := chromiumsIn(ws); len(left) > 0 {
		t.Errorf("Chromium processes of the killed chunk still run: %v", left)
	}
	if r, err := call(ctx, jobspec.Request{JobPath: spec.path, ChunkIndex: spec.Chunks[0].ID}); err != nil || !r.OK() || r.Renderer != worker.RendererWarm {
		t.Errorf("the chunk after the killed one: %+v, %v; want it rendered warm", r, err)
	}
}

// psnrMin is the least PSNR of a frame of a against the same frame of b.
func psnrMin(t *testing.T, a, b string) float64 {
	t.Helper()
	p, err := videocheck.PSNRMin(testdeadline.Context(t), a, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// processedChunk is a chunk as the CLI rendered it: its output, kept
// aside, and its stdout.
type processedChunk struct {
	file, stdout string
}

var workspacePath = regexp.MustCompile(`/helios-[^/ ]+/work/`)

// cliLines are the lines that the Helios CLI prints itself (the first
// five, before the renderer's own, whose ffmpeg lines differ from run to
// run, and the last), with the chunk's workspace taken out.
func cliLines(stdout string) string {
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 6 {
		return stdout
	}
	return workspacePath.ReplaceAllString(strings.Join(append(lines[:5:5], lines[len(lines)-1]), "\n"), "/WORKSPACE/")
}

// keep copies a chunk's output aside, for the warm render to compare.
func keep(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(kept, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return kept
}
