package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// errBadVideo is an output, or the merged video, that is not the video
// it should be.
var errBadVideo = errors.New("not the video the job renders")

// verify checks every done chunk's output in --out that is a video file
// (by its extension) as video: a stream that decodes, with the chunk's
// frameCount frames, lasting them at the spec's fps. It returns those
// that are not, in chunk order, to be rendered again; none without
// ffprobe. An output with every frame at another frame rate is an error
// (errBadVideo): the renderer makes it so each time.
func (p *runPlan) verify(ctx context.Context, done []fanout.Output, prog *progress) ([]fanout.BadOutput, error) {
	if p.ffprobe == nil {
		return nil, nil
	}
	frames := map[int64]int64{}
	for _, c := range p.job.Spec.Chunks {
		frames[c.ID] = c.FrameCount
	}
	var outs []fanout.Output
	for _, o := range done {
		if frames[o.Chunk] > 0 && videoExts[strings.ToLower(path.Ext(o.File))] {
			outs = append(outs, o)
		}
	}
	if len(outs) == 0 {
		return nil, nil
	}
	prog.line("checking %d outputs as video with ffprobe", len(outs))
	var mu sync.Mutex
	var bad []fanout.BadOutput
	err := forEachOutput(ctx, outs, func(ctx context.Context, o fanout.Output) error {
		name := filepath.Join(p.out, filepath.FromSlash(o.File))
		r, err := p.ffprobe.Check(ctx, name, probe.Want{Frames: frames[o.Chunk], FPS: p.job.Spec.Metadata.FPS})
		if errors.Is(err, probe.ErrMismatch) && r.Frames == frames[o.Chunk] {
			return fmt.Errorf("%w: chunk %d: %v: every frame is there, at another frame rate than the spec's %g fps; "+
				"rendering it again would not help, since the renderer did not take the spec's rate, and the merged video would play at the wrong speed; "+
				"nothing was merged (--no-verify merges it anyway)", errBadVideo, o.Chunk, err, p.job.Spec.Metadata.FPS)
		}
		if errors.Is(err, probe.ErrMismatch) || errors.Is(err, probe.ErrNotVideo) {
			mu.Lock()
			bad = append(bad, fanout.BadOutput{Output: o, Why: err.Error(), Video: true})
			mu.Unlock()
			return nil
		}
		if err != nil {
			return fmt.Errorf("checking %s as video: %w", name, err)
		}
		return nil
	})
	slices.SortFunc(bad, func(a, b fanout.BadOutput) int { return cmp.Compare(a.Chunk, b.Chunk) })
	return bad, err
}

// forEachOutput calls f for each of outs, as many at once as there are
// CPUs (ffprobe decodes), and returns the first error.
func forEachOutput(ctx context.Context, outs []fanout.Output, f func(context.Context, fanout.Output) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, o := range outs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, o); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// verifyMerged checks the merged video: it decodes and holds every frame
// of the job. It says so when it cannot tell which file the merge wrote.
func (p *runPlan) verifyMerged(ctx context.Context, prog *progress) error {
	if p.ffprobe == nil {
		return nil
	}
	name := p.mergedFile()
	if name == "" {
		prog.line("the merged video was not checked: the mergeCommand names no one video file that the chunks do not")
		return nil
	}
	want := probe.Want{Frames: int64(p.job.Spec.Metadata.TotalFrames), FPS: p.job.Spec.Metadata.FPS}
	if want.Frames <= 0 {
		for _, c := range p.job.Spec.Chunks {
			want.Frames += c.FrameCount
		}
	}
	if want.Frames <= 0 {
		return nil
	}
	r, err := p.ffprobe.Check(ctx, name, want)
	if errors.Is(err, probe.ErrMismatch) || errors.Is(err, probe.ErrNotVideo) {
		return fmt.Errorf("%w: the merged video %v; every chunk's output was checked, so the mergeCommand dropped or repeated frames", errBadVideo, err)
	}
	if err != nil {
		return fmt.Errorf("checking the merged video %s: %w", name, err)
	}
	prog.line("checked %s: %d frames, %v", name, r.Frames, r.Duration)
	return nil
}

// videoExts are the extensions of the files a merge may write.
var videoExts = map[string]bool{".mp4": true, ".webm": true, ".mov": true, ".mkv": true, ".m4v": true, ".ts": true, ".avi": true}

// mergedFile is the merged video in --out: the one video file that the
// mergeCommand names and no chunk's command does; "" when there is not
// exactly one.
func (p *runPlan) mergedFile() string {
	used := map[string]bool{}
	for _, c := range p.job.Spec.Chunks {
		for _, w := range commandWords(c.Command) {
			used[w] = true
		}
		used[c.OutputFile] = true
	}
	var found []string
	for _, w := range commandWords(p.job.Spec.MergeCommand) {
		if !used[w] && filepath.IsLocal(w) && videoExts[strings.ToLower(filepath.Ext(w))] {
			found = append(found, w)
			used[w] = true
		}
	}
	if len(found) != 1 {
		return ""
	}
	return filepath.Join(p.out, filepath.FromSlash(found[0]))
}
