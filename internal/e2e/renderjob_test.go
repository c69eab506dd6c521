package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// renderJob is a job in the shape the Helios CLI emits (render
// --emit-job): a spec without id, chunk commands like "helios render
// composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150",
// and a merge command, plus the project folder that its assetsUrl names.
// The project's "helios" is a shell stand-in for the CLI: it checks every
// asset against SHA256SUMS, then writes the chunk's output from them.
type renderJob struct {
	assets map[string][]byte // the project folder, by relative path
}

// The chunks of renderJob's spec.
const (
	chunkOK        = 0 // renders out_part_0.mp4
	chunkNoOutput  = 1 // exits 0 without writing its outputFile
	chunkClimbsOut = 2 // outputFile ../escape.mp4
	chunkAbsolute  = 3 // outputFile /etc/helios-escape.mp4
	chunkFIFO      = 4 // leaves a FIFO as its outputFile
)

// heliosStandIn renders like `helios render IN -o OUT --start-frame S
// --frame-count N`: it checks the assets, then concatenates two of them
// and the frame range into OUT.
const heliosStandIn = `set -eu
sha256sum --quiet -c SHA256SUMS
echo "job $HELIOS_JOB_ID chunk $HELIOS_CHUNK_ID: assets intact"
cat media/intro.bin "$2" > "$4"
printf 'frames %s+%s\n' "$6" "$8" >> "$4"
`

func newRenderJob(t testing.TB) *renderJob {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 42))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	j := &renderJob{assets: map[string][]byte{
		"composition.html":         []byte("<!doctype html><title>intro</title><canvas></canvas>\n"),
		"helios":                   []byte(heliosStandIn),
		"media/intro.bin":          blob(9 << 20),  // over 8 MB: a multipart download
		"media/deep/er/bed.wav":    blob(12 << 20), // and another
		"fonts/Inter Variable.ttf": blob(70_000),
	}}
	var sums bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(j.assets)) {
		h := sha256.Sum256(j.assets[name])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), name)
	}
	j.assets["SHA256SUMS"] = sums.Bytes()
	return j
}

// spec is the job spec with the given assetsUrl and outputUrl ("" for
// none), without an id.
func (j *renderJob) spec(t testing.TB, assetsURL, outputURL string) []byte {
	t.Helper()
	render := func(out string, start int) string {
		return fmt.Sprintf("sh helios render composition.html -o %s --start-frame %d --frame-count 150", out, start)
	}
	spec := map[string]any{
		"metadata": map[string]any{"totalFrames": 600, "fps": 30, "width": 1920, "height": 1080, "duration": 20},
		"chunks": []map[string]any{
			{"id": chunkOK, "startFrame": 0, "frameCount": 150, "outputFile": "out_part_0.mp4", "command": render("out_part_0.mp4", 0)},
			{"id": chunkNoOutput, "startFrame": 150, "frameCount": 150, "outputFile": "out_part_1.mp4", "command": "true"},
			{"id": chunkClimbsOut, "startFrame": 300, "frameCount": 150, "outputFile": "../escape.mp4", "command": render("../escape.mp4", 300)},
			{"id": chunkAbsolute, "startFrame": 450, "frameCount": 150, "outputFile": "/etc/helios-escape.mp4", "command": "true"},
			{"id": chunkFIFO, "startFrame": 450, "frameCount": 150, "outputFile": "out_part_4.mp4", "command": "mkfifo out_part_4.mp4"},
		},
		"mergeCommand": "helios merge out.mp4 out_part_0.mp4 out_part_1.mp4 out_part_2.mp4 out_part_3.mp4",
		"assetsUrl":    assetsURL,
	}
	if outputURL != "" {
		spec["outputUrl"] = outputURL
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// output is what chunk 0 writes.
func (j *renderJob) output() []byte {
	out := slices.Concat(j.assets["media/intro.bin"], j.assets["composition.html"])
	return append(out, "frames 0+150\n"...)
}

// assertEmptyDir fails unless dir holds nothing: no workspace was left.
func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	for _, e := range entries {
		if e.Name() == "helios-cache" { // the asset cache, kept for the next chunks
			continue
		}
		t.Errorf("%s left behind in the workspace root", filepath.Join(dir, e.Name()))
	}
}
