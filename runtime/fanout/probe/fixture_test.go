package probe_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// tools returns a Prober for the ffprobe on PATH and the path of ffmpeg,
// and skips tb when either is missing.
func tools(tb testing.TB) (probe.Prober, string) {
	tb.Helper()
	p, ok := probe.Find()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if !ok || err != nil {
		tb.Skip("ffmpeg or ffprobe is not on PATH (Debian's ffmpeg package has both)")
	}
	return p, ffmpeg
}

// encoderList is what ffmpeg -encoders prints.
var encoderList = sync.OnceValues(func() ([]byte, error) {
	return exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-encoders").Output()
})

// hasEncoder reports whether ffmpeg has the encoder name.
func hasEncoder(tb testing.TB, name string) bool {
	tb.Helper()
	out, err := encoderList()
	if err != nil {
		tb.Fatalf("ffmpeg -encoders: %v", err)
	}
	for line := range bytes.Lines(out) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[1] == name {
			return true
		}
	}
	return false
}

// clip is a testsrc video to render.
type clip struct {
	frames    int
	rate      int
	size      string // "64x64" when empty
	codec     string // an encoder; the H.264 one, or mpeg4 without it, when empty
	faststart bool   // the MP4's moov atom before its frames
}

// videoEncoder is the encoder for MP4 fixtures: libx264, as Helios
// renders with, or ffmpeg's own mpeg4 where it is missing.
func videoEncoder(tb testing.TB) string {
	if hasEncoder(tb, "libx264") {
		return "libx264"
	}
	return "mpeg4"
}

// vpxEncoder is a WebM encoder ffmpeg has, or "".
func vpxEncoder(tb testing.TB) string {
	for _, enc := range []string{"libvpx-vp9", "libvpx"} {
		if hasEncoder(tb, enc) {
			return enc
		}
	}
	return ""
}

// render writes c to file with ffmpeg.
func render(tb testing.TB, ffmpeg, file string, c clip) {
	tb.Helper()
	size, codec := c.size, c.codec
	if size == "" {
		size = "64x64"
	}
	if codec == "" {
		codec = videoEncoder(tb)
	}
	args := []string{"-nostdin", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=" + strconv.Itoa(c.rate),
		"-frames:v", strconv.Itoa(c.frames), "-c:v", codec, "-pix_fmt", "yuv420p"}
	switch codec {
	case "libx264":
		args = append(args, "-preset", "veryfast")
	case "libvpx", "libvpx-vp9":
		args = append(args, "-deadline", "realtime", "-cpu-used", "8")
	}
	if c.faststart {
		args = append(args, "-movflags", "+faststart")
	}
	ffmpegRun(tb, ffmpeg, append(args, "file:"+file)...)
}

// ffmpegRun runs ffmpeg with args.
func ffmpegRun(tb testing.TB, ffmpeg string, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	if out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fixtures are the files TestCheck probes, by name.
type fixtures struct {
	dir  string
	webm bool // ok.webm is there
}

// makeFixtures renders and derives the files TestCheck probes into a
// temporary folder.
func makeFixtures(t *testing.T, ffmpeg string) fixtures {
	t.Helper()
	f := fixtures{dir: t.TempDir()}
	render(t, ffmpeg, f.path("ok.mp4"), clip{frames: 30, rate: 30})
	render(t, ffmpeg, f.path("short.mp4"), clip{frames: 20, rate: 30})
	render(t, ffmpeg, f.path("slow.mp4"), clip{frames: 30, rate: 15})
	render(t, ffmpeg, f.path("fast.mp4"), clip{frames: 30, rate: 30, faststart: true})
	if enc := vpxEncoder(t); enc != "" {
		render(t, ffmpeg, f.path("ok.webm"), clip{frames: 30, rate: 30, codec: enc})
		f.webm = true
	}
	ffmpegRun(t, ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
		"-c:a", "aac", "file:"+f.path("sound.m4a"))
	ffmpegRun(t, ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64",
		"-frames:v", "1", "file:"+f.path("still.png"))
	f.write(t, "notes.txt", []byte("frames 0-29, rendered\n"))
	f.write(t, "half.mp4", half(f.read(t, "ok.mp4")))
	f.write(t, "halffast.mp4", half(f.read(t, "fast.mp4")))
	f.write(t, "corrupt.mp4", corrupt(t, f.read(t, "ok.mp4")))
	return f
}

func (f fixtures) path(name string) string { return filepath.Join(f.dir, name) }

func (f fixtures) read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(f.path(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f fixtures) write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(f.path(name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// half is the first half of data, as an upload cut short leaves it.
func half(data []byte) []byte { return data[:len(data)/2] }

// corrupt flips every 16th byte of the middle half of an MP4's frames
// (its mdat box), leaving the boxes that index them intact.
func corrupt(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("mdat"))
	if i < 4 {
		t.Fatal("no mdat box in the MP4")
	}
	size := int(data[i-4])<<24 | int(data[i-3])<<16 | int(data[i-2])<<8 | int(data[i-1])
	start, end := i+4, i-4+size
	if size < 16 || end > len(data) {
		t.Fatalf("mdat box of %d bytes in %d", size, len(data))
	}
	out := bytes.Clone(data)
	for j := start + (end-start)/4; j < end-(end-start)/4; j += 16 {
		out[j] ^= 0xff
	}
	return out
}
