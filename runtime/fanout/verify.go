package fanout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// ErrFrameRate is an output that holds every frame of its chunk at
// another frame rate than the spec's: its renderer did not take the
// spec's rate, and makes it so each time, so that rendering it again
// cannot help; merged, the video would play at the wrong speed.
var ErrFrameRate = errors.New("every frame is there, at another frame rate than the spec's")

// VideoExts are the extensions of the files that [CheckVideos] checks
// as video.
var VideoExts = map[string]bool{".mp4": true, ".webm": true, ".mov": true, ".mkv": true, ".m4v": true, ".ts": true, ".avi": true}

// CheckVideos checks each of outs that is a video file (by its
// extension), at its File path in dir, with p: a stream that decodes,
// with its chunk's frameCount frames, lasting them at the spec's fps.
// Chunks without a frameCount are not checked. It returns those that are
// not, in chunk order, marked Video, to be rendered again, concurrency
// at a time. An output with every frame at another rate is an error
// wrapping [ErrFrameRate]; so is anything that kept ffprobe from judging
// a file.
func CheckVideos(ctx context.Context, p probe.Prober, job *Job, outs []Output, dir string, concurrency int) ([]BadOutput, error) {
	frames := map[int64]int64{}
	for _, c := range job.Spec.Chunks {
		frames[c.ID] = c.FrameCount
	}
	fps := job.Spec.Metadata.FPS
	var mu sync.Mutex
	var bad []BadOutput
	err := forEach(ctx, Videos(job, outs), concurrency, func(ctx context.Context, o Output) error {
		name := filepath.Join(dir, filepath.FromSlash(o.File))
		r, err := p.Check(ctx, name, probe.Want{Frames: frames[o.Chunk], FPS: fps})
		switch {
		case errors.Is(err, probe.ErrMismatch) && r.Frames == frames[o.Chunk]:
			return fmt.Errorf("%w %g fps: chunk %d: %w", ErrFrameRate, fps, o.Chunk, err)
		case errors.Is(err, probe.ErrMismatch), errors.Is(err, probe.ErrNotVideo):
			mu.Lock()
			bad = append(bad, BadOutput{Output: o, Why: err.Error(), Video: true})
			mu.Unlock()
			return nil
		case err != nil:
			return fmt.Errorf("checking %s as video: %w", name, err)
		}
		return nil
	})
	slices.SortFunc(bad, func(a, b BadOutput) int { return cmp.Compare(a.Chunk, b.Chunk) })
	return bad, err
}

// Videos are those of outs that [CheckVideos] checks: video files of
// chunks that say how many frames they render.
func Videos(job *Job, outs []Output) []Output {
	frames := map[int64]int64{}
	for _, c := range job.Spec.Chunks {
		frames[c.ID] = c.FrameCount
	}
	var vs []Output
	for _, o := range outs {
		if frames[o.Chunk] > 0 && VideoExts[strings.ToLower(path.Ext(o.File))] {
			vs = append(vs, o)
		}
	}
	return vs
}

// TotalFrames is how many frames the merged video holds: the spec's
// totalFrames, else its chunks' frameCounts added up.
func (j *Job) TotalFrames() int64 {
	if n := j.Spec.Metadata.TotalFrames; n > 0 {
		return int64(n)
	}
	var n int64
	for _, c := range j.Spec.Chunks {
		n += c.FrameCount
	}
	return n
}
