//go:build unix

package probe_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// The tests here run a shell script in ffprobe's place. They do not run
// in parallel: a script written while another goroutine forks may be
// held open for writing by the child, and fail to start (ETXTBSY).

// fakeProbe writes a shell script named ffprobe, with body, into a new
// temporary folder and returns a Prober for it, and a file to check.
func fakeProbe(t *testing.T, body string) (probe.Prober, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "ffprobe")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "out_part_3.mp4")
	if err := os.WriteFile(file, []byte("a chunk"), 0o644); err != nil {
		t.Fatal(err)
	}
	return probe.Prober{Path: path}, file
}

// okJSON is what ffprobe prints for 30 frames of 64x64 H.264 at 30 fps,
// with the stream_groups of ffprobe 7.
const okJSON = `{"programs": [], "stream_groups": [], "streams": [{"codec_name": "h264", "width": 64, "height": 64,
  "r_frame_rate": "30/1", "avg_frame_rate": "30/1", "duration": "1.000000", "nb_read_frames": "30"}],
  "format": {"duration": "1.000000"}}`

// printJSON is a script body that prints okJSON with the replacements in
// pairs (old, new) made, with the shell's own printf (TestFind empties
// PATH).
func printJSON(pairs ...string) string {
	return "printf '%s\\n' '" + strings.NewReplacer(pairs...).Replace(okJSON) + "'\n"
}

// errPlain marks an error that must wrap neither sentinel.
var errPlain = errors.New("neither sentinel")

// TestCheckOutput checks how Check reads what ffprobe prints and how it
// exits, including floods of output.
func TestCheckOutput(t *testing.T) {
	want := probe.Want{Frames: 30, FPS: 30}
	for _, tc := range []struct {
		name, body string
		err        error // nil, a sentinel or errPlain
		msg        string
	}{
		{"as ffprobe 7 prints it", printJSON(), nil, ""},
		{"frames not counted", printJSON(`"30"}]`, `"N/A"}]`), probe.ErrNotVideo,
			"out_part_3.mp4 has no count of decoded frames"},
		{"no frame decoded", printJSON(`"30"}]`, `"0"}]`), probe.ErrNotVideo,
			"out_part_3.mp4 has a video stream but no frame decodes"},
		{"container duration within a frame", printJSON(`"duration": "1.000000", `, "", `"1.000000"}}`, `"1.034000"}}`), nil, ""},
		{"container duration over a frame", printJSON(`"duration": "1.000000", `, `"duration": "N/A", `, `"1.000000"}}`, `"1.035000"}}`),
			probe.ErrMismatch, "out_part_3.mp4 lasts 1.035s (30 fps); want 1.000s within 0.034s (30 frames at 30 fps)"},
		{"errors and exit 0", printJSON() + "yes 'error while decoding MB 2 0, bytestream 63' | head -n 100000 >&2\n", probe.ErrNotVideo,
			"out_part_3.mp4 does not decode: error while decoding MB 2 0, bytestream 63 (99999 more lines)"},
		{"error line prefixed", `printf '[h264 @ 0x55d7bef36dc0] bad\tthing\n' >&2; exit 1` + "\n", probe.ErrNotVideo,
			"out_part_3.mp4 does not decode: bad?thing (exit status 1)"},
		{"error line without newline", printJSON() + "printf ' ' >&2\n", probe.ErrNotVideo,
			"out_part_3.mp4 does not decode: ffprobe wrote a blank error"},
		{"exit 1 silently", "exit 1\n", probe.ErrNotVideo, "out_part_3.mp4 does not decode: ffprobe exit status 1"},
		{"crash", "kill -SEGV $$\n", probe.ErrNotVideo, "out_part_3.mp4 does not decode: ffprobe signal: segmentation fault"},
		{"stdout flood", "yes | head -c 3000000\n", errPlain, "ffprobe wrote more than 1048576 bytes"},
		{"not JSON", "echo streams\n", errPlain, "reading ffprobe's JSON"},
		{"two objects", printJSON() + "echo '{}'\n", errPlain, "more after the object"},
		{"no streams list", "echo '{\"format\": {}}'\n", errPlain, "no streams list"},
		{"two streams", printJSON(`}],`, `}, {}],`), errPlain, "2 streams; want at most 1"},
		{"bad frame count", printJSON(`"30"}]`, `"thirty"}]`), errPlain, `"thirty" is not a count`},
		{"bad duration", printJSON(`"1.000000",`, `"NaN",`), errPlain, `"NaN" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, file := fakeProbe(t, tc.body)
			_, err := p.Check(testdeadline.Context(t), file, want)
			if tc.err != errPlain {
				checkErr(t, err, tc.err, tc.msg)
				return
			}
			if err == nil || errors.Is(err, probe.ErrMismatch) || errors.Is(err, probe.ErrNotVideo) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Check: %v; want an error with %q that is not a verdict on the file", err, tc.msg)
			}
		})
	}
}

// TestCheckInvocation checks ffprobe's exact command line.
func TestCheckInvocation(t *testing.T) {
	p, file := fakeProbe(t, `printf '%s\n' "$@" > "$0.args"`+"\n"+printJSON())
	if _, err := p.Check(testdeadline.Context(t), file, probe.Want{Frames: 30, FPS: 30}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p.Path + ".args")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
		"stream=codec_name,width,height,nb_read_frames,duration,avg_frame_rate,r_frame_rate:format=duration",
		"-of", "json", "file:" + file}
	if args := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); !slices.Equal(args, want) {
		t.Errorf("ffprobe ran with %q; want %q", args, want)
	}
}

// TestCheckKilled checks that Check kills an ffprobe that runs past its
// Timeout or its context, and returns, even when a child of ffprobe holds
// its output open, with the context's error. The script would sleep for
// an hour: the test's deadline is the bound.
func TestCheckKilled(t *testing.T) {
	defer probe.SetWaitDelay(100 * time.Millisecond)()
	for _, tc := range []struct {
		name, body string
		cancel     bool
		err        error
	}{
		{"timeout", "exec sleep 3600\n", false, context.DeadlineExceeded},
		{"timeout, output held", "sleep 3600 &\necho $! > \"$0.pid\"\nwait\n", false, context.DeadlineExceeded},
		{"cancel", "exec sleep 3600\n", true, context.Canceled},
		{"cancel, output held", "sleep 3600 &\necho $! > \"$0.pid\"\nwait\n", true, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, file := fakeProbe(t, tc.body)
			t.Cleanup(func() { killChild(t, p.Path+".pid") })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(100*time.Millisecond, cancel)
			} else {
				p.Timeout = 100 * time.Millisecond
			}
			done := make(chan error, 1)
			go func() {
				_, err := p.Check(ctx, file, probe.Want{Frames: 30, FPS: 30})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tc.err) || errors.Is(err, probe.ErrMismatch) || errors.Is(err, probe.ErrNotVideo) {
					t.Fatalf("Check: %v; want an error wrapping %v only", err, tc.err)
				}
			case <-time.After(testdeadline.Remaining(t)):
				t.Fatal("Check did not return after ffprobe was due to be killed")
			}
		})
	}
}

// killChild kills the process whose id the script wrote to pidFile, if
// it wrote one.
func killChild(t *testing.T, pidFile string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Errorf("%s: %q is not a process id", pidFile, data)
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// TestFind checks that Find looks ffprobe up on PATH, and that a Prober
// with no Path does at each Check.
func TestFind(t *testing.T) {
	p, file := fakeProbe(t, printJSON())
	dir := filepath.Dir(p.Path)
	t.Setenv("PATH", dir)
	found, ok := probe.Find()
	if !ok || found.Path != p.Path || found.Timeout != 0 {
		t.Errorf("Find() = %+v, %v; want Path %s", found, ok, p.Path)
	}
	if _, err := (probe.Prober{}).Check(testdeadline.Context(t), file, probe.Want{Frames: 30}); err != nil {
		t.Errorf("Check with no Path, ffprobe on PATH: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if found, ok := probe.Find(); ok {
		t.Errorf("Find() = %+v, true with no ffprobe on PATH", found)
	}
	_, err := (probe.Prober{}).Check(testdeadline.Context(t), file, probe.Want{Frames: 30})
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Check with no ffprobe on PATH: %v; want exec.ErrNotFound", err)
	}
}
