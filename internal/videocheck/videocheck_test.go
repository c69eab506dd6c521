package videocheck_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/internal/videocheck"
)

// The same frames are identical; other frames of the test pattern are far
// apart; a missing file is an error.
func TestPSNRMin(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg is not on PATH")
	}
	ctx := testdeadline.Context(t)
	dir := t.TempDir()
	encode := func(name, start string) string {
		p := filepath.Join(dir, name)
		out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=30",
			"-ss", start, "-frames:v", "10", "-c:v", "ffv1", p).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		return p
	}
	a, b, other := encode("a.mkv", "0"), encode("b.mkv", "0"), encode("c.mkv", "5")
	for _, tc := range []struct {
		x, y     string
		min, max float64
	}{
		{a, b, videocheck.Identical, videocheck.Identical},
		{a, other, 0, 30},
	} {
		got, err := videocheck.PSNRMin(ctx, tc.x, tc.y)
		if err != nil || got < tc.min || got > tc.max {
			t.Errorf("PSNRMin(%s, %s) = %v, %v; want %v to %v", filepath.Base(tc.x), filepath.Base(tc.y), got, err, tc.min, tc.max)
		}
	}
	if _, err := videocheck.PSNRMin(context.Background(), a, filepath.Join(dir, "absent.mkv")); err == nil {
		t.Error("PSNRMin of a missing file: no error")
	}
}
