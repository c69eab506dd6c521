package probe_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// TestCheck probes rendered, truncated, corrupted and other files.
//
// An MP4 cut in half fails with ErrNotVideo, not ErrMismatch, in both
// layouts: ffmpeg writes the moov atom (the index of the frames) last, so
// half a file has none and ffprobe exits 1 ("moov atom not found"); with
// the moov atom first (faststart), ffprobe exits 0 but writes errors for
// the frames cut off ("partial file") and, in the ffprobe of Debian 12,
// no nb_read_frames at all. A corrupted stream may even count every frame:
// only the errors on ffprobe's standard error tell.
func TestCheck(t *testing.T) {
	p, ffmpeg := tools(t)
	f := makeFixtures(t, ffmpeg)
	for _, tc := range []struct {
		name, file string
		want       probe.Want
		err        error  // nil, probe.ErrMismatch or probe.ErrNotVideo
		msg        string // the error's message, or its start when it ends in "…"
	}{
		{"mp4", "ok.mp4", probe.Want{Frames: 30, FPS: 30}, nil, ""},
		{"webm has only a container duration", "ok.webm", probe.Want{Frames: 30, FPS: 30}, nil, ""},
		{"frames short", "short.mp4", probe.Want{Frames: 30, FPS: 30}, probe.ErrMismatch,
			"short.mp4 has 20 frames; want 30 (1.000s at 30 fps)"},
		{"frames short, no duration check", "short.mp4", probe.Want{Frames: 30}, probe.ErrMismatch,
			"short.mp4 has 20 frames; want 30"},
		{"fewer frames wanted", "short.mp4", probe.Want{Frames: 20, FPS: 30}, nil, ""},
		{"right frames at half the rate", "slow.mp4", probe.Want{Frames: 30, FPS: 30}, probe.ErrMismatch,
			"slow.mp4 lasts 2.000s (15 fps); want 1.000s within 0.034s (30 frames at 30 fps)"},
		{"rate not checked", "slow.mp4", probe.Want{Frames: 30}, nil, ""},
		{"rate it has", "slow.mp4", probe.Want{Frames: 30, FPS: 15}, nil, ""},
		{"faststart", "fast.mp4", probe.Want{Frames: 30, FPS: 30}, nil, ""},
		{"text", "notes.txt", probe.Want{Frames: 30, FPS: 30}, probe.ErrNotVideo,
			"notes.txt does not decode: …"},
		{"truncated", "half.mp4", probe.Want{Frames: 30, FPS: 30}, probe.ErrNotVideo,
			"half.mp4 does not decode: moov atom not found (1 more line; exit status 1)"},
		{"truncated faststart", "halffast.mp4", probe.Want{Frames: 30, FPS: 30}, probe.ErrNotVideo,
			"halffast.mp4 does not decode: …"},
		{"corrupted", "corrupt.mp4", probe.Want{Frames: 30, FPS: 30}, probe.ErrNotVideo,
			"corrupt.mp4 does not decode: …"},
		{"sound only", "sound.m4a", probe.Want{Frames: 30, FPS: 30}, probe.ErrNotVideo,
			"sound.m4a has no video stream"},
		{"still image", "still.png", probe.Want{Frames: 1}, nil, ""},
		{"still image, duration wanted", "still.png", probe.Want{Frames: 1, FPS: 30}, probe.ErrNotVideo,
			"still.png has no duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.file == "ok.webm" && !f.webm {
				t.Skip("ffmpeg has no VP8 or VP9 encoder")
			}
			rep, err := p.Check(testdeadline.Context(t), f.path(tc.file), tc.want)
			t.Logf("Check: %+v, %v", rep, err)
			checkErr(t, err, tc.err, tc.msg)
			if tc.err == nil {
				checkReport(t, rep, tc.want)
			}
		})
	}
}

// checkErr checks that err wraps want (nil: is nil) with the message msg,
// or one starting with msg's text before a final "…", on one line.
func checkErr(t *testing.T, err, want error, msg string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Check: %v; want no error", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("Check: %v; want an error wrapping %v", err, want)
	}
	for _, other := range []error{probe.ErrMismatch, probe.ErrNotVideo} {
		if other != want && errors.Is(err, other) {
			t.Errorf("Check: %v also wraps %v", err, other)
		}
	}
	got := err.Error()
	if prefix, ok := strings.CutSuffix(msg, "…"); ok {
		if !strings.HasPrefix(got, prefix) || len(got) == len(prefix) {
			t.Errorf("Check: %q; want %q and a reason", got, prefix)
		}
	} else if got != msg {
		t.Errorf("Check: %q; want %q", got, msg)
	}
	if strings.ContainsAny(got, "\n\r") {
		t.Errorf("Check: %q is more than a line", got)
	}
}

// checkReport checks a 64x64 video that passed want.
func checkReport(t *testing.T, rep probe.Report, want probe.Want) {
	t.Helper()
	if rep.Frames != want.Frames || rep.Codec == "" || rep.Width != 64 || rep.Height != 64 {
		t.Errorf("Report %+v; want %d frames of a 64x64 video", rep, want.Frames)
	}
	if want.FPS == 0 {
		return
	}
	wantDur := time.Duration(float64(want.Frames) / want.FPS * float64(time.Second))
	if d := rep.Duration - wantDur; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("Report.Duration %v; want %v", rep.Duration, wantDur)
	}
}

// TestCheckDashName checks a relative file name that starts with "-" and
// holds ":", which ffprobe would take for an option and a protocol
// without the "file:" prefix.
func TestCheckDashName(t *testing.T) {
	p, ffmpeg := tools(t)
	dir := t.TempDir()
	const name = "-i:frames 0-29.mp4"
	render(t, ffmpeg, filepath.Join(dir, name), clip{frames: 30, rate: 30})
	t.Chdir(dir)
	rep, err := p.Check(testdeadline.Context(t), name, probe.Want{Frames: 30, FPS: 30})
	if err != nil || rep.Frames != 30 {
		t.Fatalf("Check(%q) = %+v, %v; want 30 frames", name, rep, err)
	}
	_, err = p.Check(testdeadline.Context(t), name, probe.Want{Frames: 31})
	checkErr(t, err, probe.ErrMismatch, `"-i:frames 0-29.mp4" has 30 frames; want 31`)
}

// TestCheckCancelled checks that a context that has ended is an error of
// its own, not a verdict on the file.
func TestCheckCancelled(t *testing.T) {
	p, ffmpeg := tools(t)
	file := filepath.Join(t.TempDir(), "ok.mp4")
	render(t, ffmpeg, file, clip{frames: 30, rate: 30})
	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	cancel()
	_, err := p.Check(ctx, file, probe.Want{Frames: 30, FPS: 30})
	if !errors.Is(err, context.Canceled) || errors.Is(err, probe.ErrMismatch) || errors.Is(err, probe.ErrNotVideo) {
		t.Fatalf("Check with a cancelled context: %v; want context.Canceled only", err)
	}
}

// TestCheckArguments checks what Check refuses before running ffprobe.
func TestCheckArguments(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ok.mp4")
	if err := os.WriteFile(file, []byte("not run"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := probe.Prober{Path: filepath.Join(dir, "no-ffprobe")}
	for _, tc := range []struct {
		name string
		file string
		want probe.Want
		is   error
	}{
		{"no frames", file, probe.Want{FPS: 30}, nil},
		{"negative fps", file, probe.Want{Frames: 30, FPS: -30}, nil},
		{"missing file", filepath.Join(dir, "none.mp4"), probe.Want{Frames: 30}, fs.ErrNotExist},
		{"directory", dir, probe.Want{Frames: 30}, probe.ErrNotVideo},
		{"no ffprobe", file, probe.Want{Frames: 30}, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Check(t.Context(), tc.file, tc.want)
			if err == nil || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Check: %v; want an error wrapping %v", err, tc.is)
			}
			if tc.is != probe.ErrNotVideo && (errors.Is(err, probe.ErrNotVideo) || errors.Is(err, probe.ErrMismatch)) {
				t.Errorf("Check: %v is a verdict on the file", err)
			}
		})
	}
}
