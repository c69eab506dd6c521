package probe

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// epsilon is what a duration may be off by beyond one frame: the rounding
// of container time bases (an MP4's is often a millisecond).
const epsilon = 0.001

// verdictError is a file that is not what was wanted: its message is the
// one-line reason, and it wraps ErrMismatch or ErrNotVideo.
type verdictError struct {
	reason string
	kind   error
}

func (e *verdictError) Error() string { return e.reason }
func (e *verdictError) Unwrap() error { return e.kind }

// verdict is a failure of kind ErrMismatch or ErrNotVideo.
func verdict(kind error, format string, a ...any) error {
	return &verdictError{reason: fmt.Sprintf(format, a...), kind: kind}
}

// judge compares what ffprobe left, run on file, with want.
func judge(file string, res result, want Want) (Report, error) {
	name := baseName(file)
	p, perr := parse(res.stdout.buf)
	if res.stdout.cut() {
		perr = fmt.Errorf("ffprobe wrote more than %d bytes", maxStdout)
	}
	if res.exitErr != nil || res.stderr.total > 0 {
		return p.report, decodeFailure(name, file, res)
	}
	if perr != nil {
		return Report{}, fmt.Errorf("probe %s: %w", name, perr)
	}
	if err := decoded(name, p); err != nil {
		return p.report, err
	}
	if got := p.report.Frames; got != want.Frames {
		return p.report, verdict(ErrMismatch, "%s has %s; want %d%s", name, frames(got), want.Frames, wantDuration(want))
	}
	if want.FPS == 0 {
		return p.report, nil
	}
	if !p.hasDuration {
		return p.report, verdict(ErrNotVideo, "%s has no duration", name)
	}
	return p.report, checkDuration(name, p, want)
}

// decodeFailure is a file on which ffprobe failed or wrote errors.
func decodeFailure(name, file string, res result) error {
	if res.stderr.total == 0 {
		return verdict(ErrNotVideo, "%s does not decode: ffprobe %v", name, res.exitErr)
	}
	why, more := firstError(res.stderr, file)
	var notes []string
	switch {
	case why == "":
		why = "ffprobe wrote a blank error"
	case more == 1:
		notes = append(notes, "1 more line")
	case more > 1:
		notes = append(notes, fmt.Sprintf("%d more lines", more))
	}
	if res.exitErr != nil {
		notes = append(notes, res.exitErr.Error())
	}
	if len(notes) > 0 {
		why += " (" + strings.Join(notes, "; ") + ")"
	}
	return verdict(ErrNotVideo, "%s does not decode: %s", name, why)
}

// decoded checks that ffprobe found a video stream and decoded frames of
// it.
func decoded(name string, p probed) error {
	switch {
	case !p.hasVideo:
		return verdict(ErrNotVideo, "%s has no video stream", name)
	case !p.hasFrames:
		return verdict(ErrNotVideo, "%s has no count of decoded frames", name)
	case p.report.Frames == 0:
		return verdict(ErrNotVideo, "%s has a video stream but no frame decodes", name)
	}
	return nil
}

// checkDuration checks p's duration against want's frames at want's rate,
// within a frame.
func checkDuration(name string, p probed, want Want) error {
	wantSec := float64(want.Frames) / want.FPS
	tolerance := 1/want.FPS + epsilon
	got := p.report.Duration.Seconds()
	if math.Abs(got-wantSec) <= tolerance {
		return nil
	}
	rate := ""
	if p.fps > 0 {
		rate = " (" + fps(p.fps) + " fps)"
	}
	return verdict(ErrMismatch, "%s lasts %.3fs%s; want %.3fs within %.3fs (%s at %s fps)",
		name, got, rate, wantSec, tolerance, frames(want.Frames), fps(want.FPS))
}

// wantDuration is the duration want asks for, as a frame count mismatch
// shows it.
func wantDuration(want Want) string {
	if want.FPS == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.3fs at %s fps)", float64(want.Frames)/want.FPS, fps(want.FPS))
}

// frames is "1 frame" or "N frames".
func frames(n int64) string {
	if n == 1 {
		return "1 frame"
	}
	return strconv.FormatInt(n, 10) + " frames"
}

// fps shows a frame rate: as it is up to three decimals (30, 12.5), and
// rounded to three otherwise (29.970).
func fps(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if _, dec, ok := strings.Cut(s, "."); ok && len(dec) > 3 {
		return strconv.FormatFloat(f, 'f', 3, 64)
	}
	return s
}
