package probe_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// Check two chunks' outputs before the merge, each to hold 30 frames at
// 30 fps. The chunks are rendered here with ffmpeg's test source, the
// second cut short. (Without ffmpeg or ffprobe, TestMain skips this
// example.)
func Example() {
	dir, err := os.MkdirTemp("", "probe-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for i, frames := range []int{30, 20} {
		render := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
			"-i", "testsrc=size=64x64:rate=30", "-frames:v", strconv.Itoa(frames), "-c:v", "mpeg4",
			"file:"+filepath.Join(dir, fmt.Sprintf("out_part_%d.mp4", i)))
		if out, err := render.CombinedOutput(); err != nil {
			log.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}

	p, ok := probe.Find()
	if !ok {
		fmt.Println("no ffprobe on PATH: the outputs are not checked")
		return
	}
	for i := range 2 {
		file := filepath.Join(dir, fmt.Sprintf("out_part_%d.mp4", i))
		rep, err := p.Check(context.Background(), file, probe.Want{Frames: 30, FPS: 30})
		switch {
		case errors.Is(err, probe.ErrMismatch), errors.Is(err, probe.ErrNotVideo):
			fmt.Println("render again:", err)
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Printf("%s: %d frames of %dx%d %s, %v\n",
				filepath.Base(file), rep.Frames, rep.Width, rep.Height, rep.Codec, rep.Duration)
		}
	}
	// Output:
	// out_part_0.mp4: 30 frames of 64x64 mpeg4, 1s
	// render again: out_part_1.mp4 has 20 frames; want 30 (1.000s at 30 fps)
}
