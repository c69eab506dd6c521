// Package videocheck compares videos in tests with ffmpeg: how close two
// renders of the same frames are.
package videocheck

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// Identical is the PSNR that PSNRMin gives for identical frames (ffmpeg
// says inf).
const Identical = 1000

var minPattern = regexp.MustCompile(`min:([0-9.]+|inf)`)

// PSNRMin is the least PSNR, in dB, of a frame of the video file a
// against the same frame of b, from ffmpeg's psnr filter. ffmpeg must be
// on PATH.
func PSNRMin(ctx context.Context, a, b string) (float64, error) {
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-hide_banner", "-i", a, "-i", b, "-lavfi", "psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("ffmpeg psnr %s %s: %w\n%s", a, b, err, out)
	}
	m := minPattern.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("ffmpeg psnr printed no minimum:\n" + string(out))
	}
	if string(m[1]) == "inf" {
		return Identical, nil
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
