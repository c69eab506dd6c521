// Command bench measures the worker runtime against baselines taken in the
// same run, and prints the Performance table of docs/performance.md:
//
//	go run ./internal/cmd/bench
//
// It builds the Lambda and Cloud Run entry points as users get them, runs
// them as separate processes, and measures per-invocation overhead against
// exec'ing /bin/true, Cloud Run throughput and CPU per chunk against a
// naive Go server and a Go loop that only execs true, cold start, resident
// memory, and the Lambda binary's size. Figures are medians; ratios are
// the ones to compare across machines.
//
// The throughput comparison alone (the Cloud Run worker against the naive
// Go server of ./naiveserver, requests per second and CPU per chunk at
// concurrency 1 and 8, median of -throughput-runs runs with the range)
// builds only the Cloud Run binary and takes about a minute on two cores:
//
//	go run ./internal/cmd/bench -only throughput
//
// -duration sets the seconds of load on each server in each run.
//
// The hedging figure (a 40-chunk job of sleeps on the worker core in this
// process, as run --target local drives it, at concurrency 4, one chunk
// of which stalls on its first attempt, with and without hedging: wall
// time, worker-seconds, attempts and hedges, median of -hedge-runs runs
// with the range) builds nothing and takes about two minutes:
//
//	go run ./internal/cmd/bench -only hedge
//
// -hedge-chunk, -hedge-straggler and -hedge-floor set a chunk's time, the
// straggler's stall and the hedging floor.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"
)

type options struct {
	only string // one measurement to take instead of the others: "throughput" or "hedge"

	duration       float64 // seconds of load on each server in each throughput run
	throughputRuns int     // throughput runs to take the median of

	hedgeRuns      int           // runs of the hedging job, each mode, to take the median of
	hedgeChunk     time.Duration // a chunk's time in the hedging job (and up to 9 % more)
	hedgeStraggler time.Duration // the straggler's first attempt's time
	hedgeFloor     time.Duration // the hedging floor

	coldRuns  int   // cold starts to take the median of
	bigOutput int64 // bytes printed by the big-output chunk
	hugeBytes int64 // bytes printed by the flatness check chunk

	core        bool  // measure the runtime: overhead, throughput, cold start, memory, size
	stores      bool  // measure the bucket stores
	storeRuns   int   // runs of each store transfer to take the median of
	assetBig    int64 // bytes of the one big asset
	outputBytes int64 // bytes of the uploaded output

	fanout bool // measure helios-scaffold run: dispatch, fan-out, memory, transfers

	warm      bool  // measure the asset cache
	warmFiles int   // files of the warm folder
	warmBytes int64 // bytes of the warm folder
	warmRuns  int   // warm chunks to take the median of (times 3)
}

func main() {
	var o options
	flag.StringVar(&o.only, "only", "", "take only this measurement and build only what it needs: throughput or hedge (the other flags choosing measurements are ignored)")
	flag.Float64Var(&o.duration, "duration", 2, "seconds of load on each server in each throughput run")
	flag.IntVar(&o.throughputRuns, "throughput-runs", 5, "throughput runs, each loading both servers in turn, to take the median of")
	flag.IntVar(&o.hedgeRuns, "hedge-runs", 3, "runs of the hedging job, with and without hedging, to take the median of")
	flag.DurationVar(&o.hedgeChunk, "hedge-chunk", 500*time.Millisecond, "a chunk's time in the hedging job (each chunk takes up to 9% more, by id)")
	flag.DurationVar(&o.hedgeStraggler, "hedge-straggler", 30*time.Second, "the time of the hedging job's straggler on its first attempt (under the worker's 5m idle timeout)")
	flag.DurationVar(&o.hedgeFloor, "hedge-floor", 2*time.Second, "the hedging floor (the rest is fanout.DefaultHedge)")
	flag.IntVar(&o.coldRuns, "cold", 15, "cold starts to take the median of")
	flag.Int64Var(&o.bigOutput, "big", 50_000_000, "bytes printed by the big-output chunk")
	flag.Int64Var(&o.hugeBytes, "huge", 1<<30, "bytes printed by the largest chunk (flatness check)")
	flag.BoolVar(&o.core, "core", true, "measure the runtime: overhead, throughput, cold start, memory, size")
	flag.BoolVar(&o.stores, "stores", true, "measure the S3 and GCS stores (needs moto_server)")
	flag.IntVar(&o.storeRuns, "store-runs", 3, "runs of each store transfer to take the median of")
	flag.Int64Var(&o.assetBig, "asset-big", 500_000_000, "bytes of the one big asset")
	flag.Int64Var(&o.outputBytes, "output", 1<<30, "bytes of the uploaded output")
	flag.BoolVar(&o.fanout, "fanout", true, "measure helios-scaffold run: dispatch, fan-out, memory, transfers (needs moto_server)")
	flag.BoolVar(&o.warm, "warm", true, "measure the asset cache on warm workers (needs moto_server)")
	flag.IntVar(&o.warmFiles, "warm-files", 300, "files of the warm asset folder")
	flag.Int64Var(&o.warmBytes, "warm-bytes", 200_000_000, "bytes of the warm asset folder")
	flag.IntVar(&o.warmRuns, "warm-runs", 5, "warm chunks to take the median of, times 3")
	fake := flag.Bool("fake-gcs", false, "serve fake-gcs-server on loopback, print its address, and stop at the end of standard input (used by the bench itself)")
	flag.Parse()
	if *fake {
		if err := serveFakeGCS(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	switch o.only {
	case "", "throughput", "hedge":
	default:
		return fmt.Errorf("-only %q: want throughput or hedge", o.only)
	}
	dir, err := os.MkdirTemp("", "helios-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.only == "hedge" {
		return measureHedge(ctx, out, dir, o)
	}
	bins, err := build(ctx, dir, o.only == "")
	if err != nil {
		return err
	}
	jobs, err := writeJobs(filepath.Join(dir, "jobs"), o)
	if err != nil {
		return err
	}
	r := &report{out: out}
	var steps []func() error
	if o.only == "throughput" {
		o.core, o.stores, o.warm, o.fanout = false, false, false, false
		steps = append(steps, func() error { return measureThroughput(ctx, r, bins, jobs, dir, o) })
	}
	if o.core {
		steps = coreSteps(ctx, r, bins, jobs, dir, o)
	}
	if o.stores {
		steps = append(steps, func() error { return measureStores(ctx, r, bins, jobs, dir, o) })
	}
	if o.warm {
		steps = append(steps, func() error { return measureWarm(ctx, r, bins, jobs, dir, o) })
	}
	if o.fanout {
		steps = append(steps, func() error { return measureFanout(ctx, r, bins, dir, o) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	r.print()
	return nil
}

// coreSteps measure the runtime without buckets.
func coreSteps(ctx context.Context, r *report, bins binaries, jobs jobs, dir string, o options) []func() error {
	return []func() error{
		func() error { return measureOverhead(ctx, r, jobs, dir) },
		func() error { return measureThroughput(ctx, r, bins, jobs, dir, o) },
		func() error { return measureColdStart(ctx, r, bins, jobs, dir, o) },
		func() error { return measureRSS(ctx, r, bins, jobs, dir, o) },
		func() error { return measureSize(r, bins) },
	}
}
