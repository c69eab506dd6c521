package merge_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// memSource serves documents from memory, by location.
type memSource map[string][]byte

func (m memSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	data, ok := m[location]
	if !ok {
		return nil, fmt.Errorf("%s: %w", location, store.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Each part is partFrames frames at fps, so that a job of n parts is
// n*partFrames frames.
const (
	partFrames = 10
	fps        = 10
)

// needVideo skips t unless ffmpeg and ffprobe are on PATH.
func needVideo(t *testing.T) {
	t.Helper()
	_, ok := probe.Find()
	if _, err := exec.LookPath("ffmpeg"); err != nil || !ok {
		t.Skip("ffmpeg and ffprobe are not on PATH")
	}
}

// encode writes frames of ffmpeg's test pattern into path, H.264 at fps.
func encode(t *testing.T, path string, frames int) {
	t.Helper()
	out, err := exec.CommandContext(testdeadline.Context(t), "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=32x32:rate=%d", fps), "-frames:v", fmt.Sprint(frames),
		"-c:v", "libx264", "-pix_fmt", "yuv420p", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

// concat is a mergeCommand that joins the parts of n chunks into
// merged.mp4 with ffmpeg's concat demuxer.
func concat(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = partName(i)
	}
	return `sh -c 'printf "file %s\n" ` + strings.Join(parts, " ") + ` > list.txt && ` +
		`exec ffmpeg -nostdin -v error -y -f concat -safe 0 -i list.txt -c copy merged.mp4'`
}

func partName(i int) string { return fmt.Sprintf("out_part_%d.mp4", i) }

// world is a job whose n chunks are rendered: their parts in the output
// folder Out (a file:// location), the spec at Spec, and a worker
// whose workspaces go below Root.
type world struct {
	Dir, Out, Spec, Root string
	Outputs              []jobspec.ChunkOutput
	spec                 jobspec.Spec
}

// newWorld renders n parts of partFrames frames and writes a spec whose
// mergeCommand is merge (concat(n) when "").
func newWorld(t *testing.T, n int, merge string) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{Dir: dir, Out: filepath.Join(dir, "out"), Spec: filepath.Join(dir, "jobs", "job.json"), Root: filepath.Join(dir, "ws")}
	for _, d := range []string{w.Out, filepath.Dir(w.Spec), w.Root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if merge == "" {
		merge = concat(n)
	}
	w.spec = jobspec.Spec{ID: "job-m", OutputURL: "file://" + w.Out, MergeCommand: merge,
		Metadata: jobspec.Metadata{TotalFrames: n * partFrames, FPS: fps, Width: 32, Height: 32}}
	for i := range n {
		name := partName(i)
		w.spec.Chunks = append(w.spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(i * partFrames), FrameCount: partFrames,
			OutputFile: name, Command: "helios render composition.html -o " + name})
		encode(t, filepath.Join(w.Out, name), partFrames)
		w.Outputs = append(w.Outputs, w.output(t, i))
	}
	w.writeSpec(t)
	return w
}

func (w *world) writeSpec(t *testing.T) {
	t.Helper()
	data, err := json.Marshal(w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.Spec, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// output is what chunk i's worker answers for the part in Out now.
func (w *world) output(t *testing.T, i int) jobspec.ChunkOutput {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.Out, partName(i)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return jobspec.ChunkOutput{Chunk: int64(i), OutputURL: "file://" + w.Out + "/" + partName(i),
		OutputBytes: int64(len(data)), OutputSHA256: hex.EncodeToString(sum[:])}
}

// worker is a worker with its workspaces in Root, its logs and output
// discarded, and opts.
func (w *world) worker(opts ...worker.Option) *worker.Worker {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = w.Root
	opts = append([]worker.Option{worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	return worker.New(cfg, opts...)
}

// request is the merge of the world's outputs.
func (w *world) request() jobspec.MergeRequest {
	return jobspec.MergeRequest{JobPath: w.Spec, Outputs: w.Outputs}
}

// merged is the merged video in Out, and whether it is there.
func (w *world) merged() (string, bool) {
	p := filepath.Join(w.Out, "merged.mp4")
	_, err := os.Stat(p)
	return p, err == nil
}

// checkRootEmpty fails unless the workspace root holds nothing: every
// merge removes its workspace.
func (w *world) checkRootEmpty(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(w.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the workspace root: %s", e.Name())
	}
}
