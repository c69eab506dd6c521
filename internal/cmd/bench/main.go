// Command bench measures the worker runtime against baselines taken in the
// same run, and prints the README's Performance table:
//
//	go run ./internal/cmd/bench
//
// It builds the Lambda and Cloud Run entry points as users get them, runs
// them as separate processes, and measures per-invocation overhead against
// exec'ing /bin/true, Cloud Run throughput against a Go loop that only
// execs true, cold start, resident memory, and the Lambda binary's size.
// Figures are medians; ratios are the ones to compare across machines.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
)

type options struct {
	duration  float64 // seconds per throughput measurement
	coldRuns  int     // cold starts to take the median of
	bigOutput int64   // bytes printed by the big-output chunk
	hugeBytes int64   // bytes printed by the flatness check chunk
}

func main() {
	var o options
	flag.Float64Var(&o.duration, "duration", 5, "seconds for each throughput measurement")
	flag.IntVar(&o.coldRuns, "cold", 15, "cold starts to take the median of")
	flag.Int64Var(&o.bigOutput, "big", 50_000_000, "bytes printed by the big-output chunk")
	flag.Int64Var(&o.hugeBytes, "huge", 1<<30, "bytes printed by the largest chunk (flatness check)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "helios-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins, err := build(ctx, dir)
	if err != nil {
		return err
	}
	jobs, err := writeJobs(filepath.Join(dir, "jobs"), o)
	if err != nil {
		return err
	}
	r := &report{out: out}
	steps := []func() error{
		func() error { return measureOverhead(ctx, r, jobs, dir) },
		func() error { return measureThroughput(ctx, r, bins, jobs, dir, o) },
		func() error { return measureColdStart(ctx, r, bins, jobs, dir, o) },
		func() error { return measureRSS(ctx, r, bins, jobs, dir, o) },
		func() error { return measureSize(r, bins) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	r.print()
	return nil
}
