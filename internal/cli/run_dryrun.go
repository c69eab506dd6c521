package cli

import (
	"fmt"
	"io"
)

// print is --dry-run: what run would do, and where each value came from.
func (p *runPlan) print(w io.Writer) {
	from := func(key string) string {
		if f := p.from[key]; f != "" {
			return " (" + f + ")"
		}
		return ""
	}
	fmt.Fprintf(w, "job:         %s, %d chunks (%s)\n", p.job.Location, len(p.job.Spec.Chunks), p.job.Hash)
	fmt.Fprintf(w, "target:      %s%s\n", p.target, from("target"))
	switch p.target {
	case targetAWS:
		fmt.Fprintf(w, "function:    %s%s, region %s%s\n", p.function, from("function"), orDefault(p.region, "default"), from("region"))
	case targetCloudRun:
		fmt.Fprintf(w, "url:         %s\n", p.o.url)
	case targetCloudRunJob:
		p.printJob(w, from("job"))
	}
	if p.target != targetCloudRunJob { // the job's parallelism and retries are its own
		fmt.Fprintf(w, "concurrency: %d, retries %d (failed commands too: %v)\n", p.conc, p.o.retries, p.o.retryFailed)
	}
	p.printChecks(w)
	if p.files != nil {
		verb := "staged"
		if p.target != targetLocal {
			verb = "uploaded to " + p.upload + "/assets"
		}
		fmt.Fprintf(w, "project:     %s: %d files, %s, %s\n", p.files.Dir, len(p.files.Files), sizeOf(p.files.Bytes), verb)
		for _, f := range p.files.Files {
			fmt.Fprintf(w, "  %10s  %s\n", sizeOf(f.Size), f.Rel)
		}
	}
	if p.upload != "" {
		fmt.Fprintf(w, "spec:        uploaded to %s/jobs/%s.json%s\n", p.upload, p.runID, from("upload"))
		if u := p.uploadedOutputURL(); u != "" {
			fmt.Fprintf(w, "outputs:     put by the workers in %s\n", u)
		}
	}
	fmt.Fprintf(w, "out:         %s%s\n", p.out, from("out"))
	fmt.Fprintf(w, "state:       %s\n", p.state)
	if p.o.noMerge || p.job.Spec.MergeCommand == "" {
		fmt.Fprintf(w, "merge:       none\n")
	} else {
		fmt.Fprintf(w, "merge:       %s (in %s)\n", p.job.Spec.MergeCommand, p.out)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// printChecks prints hedging, the video checks, the cost and what
// happens at the end.
func (p *runPlan) printChecks(w io.Writer) {
	switch {
	case p.target == targetCloudRunJob:
	case p.o.noHedge:
		fmt.Fprintf(w, "hedging:     off\n")
	default:
		h := p.o.hedge
		fmt.Fprintf(w, "hedging:     past %g× the p90 of finished chunks, at least %v, once %d have finished\n", h.Factor, h.Floor, h.After)
	}
	switch {
	case p.o.noVerify:
		fmt.Fprintf(w, "verify:      off (sizes and SHA-256 only)\n")
	case p.ffprobe == nil:
		fmt.Fprintf(w, "verify:      sizes and SHA-256 only: ffprobe is not on PATH\n")
	default:
		fmt.Fprintf(w, "verify:      every output and the merged video with ffprobe\n")
	}
	if note := p.priceNote(); note != "" {
		fmt.Fprintf(w, "cost:        %s (the deployed worker's size is read before the run)\n", note)
	} else if p.target != targetLocal {
		fmt.Fprintf(w, "cost:        read from the deployed worker before the run\n")
	}
	if p.o.budget > 0 {
		fmt.Fprintf(w, "budget:      %s\n", usd(p.o.budget))
	}
	if p.service != "" {
		fmt.Fprintf(w, "service:     %s (its limits are read before the run)\n", p.service)
	}
	if p.o.webhook != "" {
		fmt.Fprintf(w, "webhook:     %s, signed\n", p.o.webhook)
	}
	if p.o.report != "" {
		fmt.Fprintf(w, "report:      %s\n", p.o.report)
	}
}
