//go:build unix

package probe_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// BenchmarkCheck checks a test chunk of 30 64x64 frames and a chunk of 150
// 1280x720 frames (5 s at 30 fps), rendered once each, and reports
// ffprobe's CPU time (user and system) per check.
func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct {
		name string
		clip clip
	}{
		{"64x64-30", clip{frames: 30, rate: 30}},
		{"1280x720-150", clip{frames: 150, rate: 30, size: "1280x720"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, ffmpeg := tools(b)
			file := filepath.Join(b.TempDir(), "out_part_0.mp4")
			render(b, ffmpeg, file, c.clip)
			want := probe.Want{Frames: int64(c.clip.frames), FPS: float64(c.clip.rate)}
			ctx := testdeadline.Context(b)
			cpu := childCPU(b)
			for b.Loop() {
				if _, err := p.Check(ctx, file, want); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(childCPU(b)-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// childCPU is the CPU time the children this process waited for used.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
