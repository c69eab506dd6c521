package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ErrMismatch is a video with the wrong frame count or duration.
var ErrMismatch = errors.New("video does not match what was wanted")

// ErrNotVideo is a file that is not a video that decodes: not a media
// file, no video stream, or a stream with decoding errors.
var ErrNotVideo = errors.New("not a video that decodes")

// Timeouts of a Prober whose Timeout is zero: DefaultTimeout, plus
// FrameTimeout for each wanted frame.
const (
	DefaultTimeout = 2 * time.Minute
	FrameTimeout   = 10 * time.Millisecond
)

// waitDelay is how long Check waits for ffprobe's output to close once
// ffprobe has exited or been killed (what ffprobe started may hold it).
var waitDelay = 5 * time.Second

// maxTimeoutFrames caps the frames counted for a default timeout, so that
// the sum cannot overflow.
const maxTimeoutFrames = 1 << 30

// Want is what a video must hold.
type Want struct {
	Frames int64   // decoded frames, at least 1
	FPS    float64 // frames per second; 0 skips the duration check
}

// Report is what ffprobe found.
type Report struct {
	Frames        int64         // frames decoded from the first video stream
	Duration      time.Duration // the stream's, or the container's where the stream has none
	Codec         string        // ffprobe's codec_name, such as "h264"
	Width, Height int
}

// Prober runs ffprobe.
type Prober struct {
	Path    string        // the ffprobe binary; "" looks "ffprobe" up on PATH at each Check
	Timeout time.Duration // per file; 0 is DefaultTimeout plus FrameTimeout per wanted frame
}

// Find returns a Prober for the ffprobe on PATH, and false when there is
// none.
func Find() (Prober, bool) {
	path, err := exec.LookPath("ffprobe")
	if err != nil {
		return Prober{}, false
	}
	return Prober{Path: path}, true
}

// Check probes file: it must have a video stream that decodes, whose
// decoded frame count equals want.Frames and whose duration is
// want.Frames/want.FPS within one frame (see the package documentation).
// It returns what ffprobe found and, when the file is not what was wanted,
// an error wrapping ErrMismatch or ErrNotVideo. When ctx ends or the
// Prober's Timeout passes, ffprobe is killed and the error wraps the
// context's error instead.
func (p Prober) Check(ctx context.Context, file string, want Want) (Report, error) {
	if err := want.valid(); err != nil {
		return Report{}, err
	}
	name := baseName(file)
	info, err := os.Stat(file)
	if err != nil {
		return Report{}, fmt.Errorf("probe: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Report{}, verdict(ErrNotVideo, "%s is not a regular file", name)
	}
	res, err := p.run(ctx, file, want)
	if err != nil {
		return Report{}, fmt.Errorf("probe %s: %w", name, err)
	}
	return judge(file, res, want)
}

// valid reports a Want that no video can match.
func (w Want) valid() error {
	if w.Frames < 1 {
		return fmt.Errorf("probe: want %d frames; must be at least 1", w.Frames)
	}
	if w.FPS < 0 || math.IsNaN(w.FPS) || math.IsInf(w.FPS, 0) {
		return fmt.Errorf("probe: want %v fps; must be a positive number, or 0", w.FPS)
	}
	return nil
}

// timeout is how long one Check may run ffprobe.
func (p Prober) timeout(want Want) time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout + time.Duration(min(want.Frames, maxTimeoutFrames))*FrameTimeout
}

// args is ffprobe's command line for file, without the binary.
func args(file string) []string {
	return []string{
		"-v", "error",
		"-select_streams", "v:0",
		"-count_frames",
		"-show_entries", "stream=codec_name,width,height,nb_read_frames,duration,avg_frame_rate,r_frame_rate:format=duration",
		"-of", "json",
		"file:" + file,
	}
}

// result is what one run of ffprobe left.
type result struct {
	stdout, stderr *capture
	exitErr        *exec.ExitError // nil when ffprobe exited 0
}

// Caps on what is kept of ffprobe's output.
const (
	maxStdout = 1 << 20
	maxStderr = 64 << 10
)

// run runs ffprobe on file. Its error is about running ffprobe, not about
// the file: a nonzero exit is in the result.
func (p Prober) run(ctx context.Context, file string, want Want) (result, error) {
	limit := p.timeout(want)
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	path := p.Path
	if path == "" {
		path = "ffprobe"
	}
	res := result{stdout: &capture{max: maxStdout}, stderr: &capture{max: maxStderr}}
	cmd := exec.CommandContext(tctx, path, args(file)...)
	cmd.Stdout, cmd.Stderr = res.stdout, res.stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err != nil && tctx.Err() != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("ffprobe ran past its %v timeout: %w", limit, tctx.Err())
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		res.exitErr = ee
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("running ffprobe: %w", err)
	}
	return res, nil
}

// baseName is file's base name as a failure's message shows it: as it is
// when it is plain, quoted otherwise.
func baseName(file string) string {
	return plain(filepath.Base(file))
}
