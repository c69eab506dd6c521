package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// errBadVideo is an output, or the merged video, that is not the video
// it should be.
var errBadVideo = errors.New("not the video the job renders")

// verify checks every done chunk's output in --out that is a video
// file as video ([fanout.CheckVideos]), as many at once as there are
// CPUs (ffprobe decodes); it returns those to render again, and none
// without ffprobe.
func (p *runPlan) verify(ctx context.Context, done []fanout.Output, prog *progress) ([]fanout.BadOutput, error) {
	if p.ffprobe == nil || len(fanout.Videos(p.job, done)) == 0 {
		return nil, nil
	}
	prog.line("checking %d outputs as video with ffprobe", len(fanout.Videos(p.job, done)))
	bad, err := fanout.CheckVideos(ctx, *p.ffprobe, p.job, done, p.out, runtime.NumCPU())
	if errors.Is(err, fanout.ErrFrameRate) {
		return nil, fmt.Errorf("%w: %w; rendering it again would not help, since the renderer did not take the spec's rate, "+
			"and the merged video would play at the wrong speed; nothing was merged (--no-verify merges it anyway)", errBadVideo, err)
	}
	return bad, err
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
	want := probe.Want{Frames: p.job.TotalFrames(), FPS: p.job.Spec.Metadata.FPS}
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

// mergedFile is the merged video in --out: the one video file that the
// mergeCommand names and no chunk's command does; "" when there is not
// exactly one.
func (p *runPlan) mergedFile() string {
	return p.job.MergedFile(p.out)
}
