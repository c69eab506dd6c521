package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// measureThroughput compares the Cloud Run binary (a `true` chunk, every
// feature on, logs drained) with the naive Go server (naiveserver: temp
// dir, the command exec'd without a shell as the worker execs it, answer),
// both running as separate processes, at concurrency 1 and 8. It reports
// requests per second and CPU per chunk: the user and system time of the
// server and of the chunk processes it waited for, over the load, divided
// by the chunks answered, so that a fixed overhead shows on any machine
// however many cores it has. Each comparison is taken o.throughputRuns
// times, the two servers taking turns at going first so that drift hits
// both, and reported as the median of the runs' ratios with their range;
// beside it the Go loop that only execs true, the floor of both.
func measureThroughput(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	return withServer(ctx, b, j, dir, func(srv *server) error {
		return withNaive(ctx, j, dir, func(naive *server) error { return serverThroughput(ctx, r, srv, naive, j, o) })
	})
}

// sample is one server's figures in one run.
type sample struct {
	rate float64       // chunks answered per second
	cpu  time.Duration // CPU time of the server and its chunks per chunk answered
}

// serverThroughput loads the worker and the naive server at concurrency 1
// and 8, each for o.duration in each of o.throughputRuns runs, after the
// exec loop that is the floor of both and an unmeasured warm-up of each.
func serverThroughput(ctx context.Context, r *report, srv, naive *server, j jobs, o options) error {
	if o.throughputRuns < 1 {
		return fmt.Errorf("-throughput-runs is %d, want at least 1", o.throughputRuns)
	}
	d := time.Duration(o.duration * float64(time.Second))
	event := j.event(chunkTrue)
	for _, c := range []int{1, 8} {
		floor, _, err := parallel(ctx, c, d, func() error { return exec.CommandContext(ctx, "true").Run() })
		if err != nil {
			return fmt.Errorf("exec loop: %w", err)
		}
		client := func() *http.Client {
			return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 30 * time.Second}
		}
		wc, nc := client(), client()
		load := func(s *server, cl *http.Client, d time.Duration) (sample, error) {
			return loadServer(ctx, s, c, d, func() error { return s.post(cl, event) })
		}
		for _, x := range []struct {
			s  *server
			cl *http.Client
		}{{naive, nc}, {srv, wc}} {
			if _, err := load(x.s, x.cl, d/4); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		var got, base []sample
		for run := range o.throughputRuns {
			var w, n sample
			if run%2 == 0 {
				n, err = load(naive, nc, d)
				if err == nil {
					w, err = load(srv, wc, d)
				}
			} else {
				w, err = load(srv, wc, d)
				if err == nil {
					n, err = load(naive, nc, d)
				}
			}
			if err != nil {
				return fmt.Errorf("server load, concurrency %d, run %d: %w", c, run+1, err)
			}
			got, base = append(got, w), append(base, n)
		}
		reportThroughput(r, c, floor, got, base)
	}
	return nil
}

// reportThroughput adds the rows of one concurrency: throughput and CPU
// per chunk against the naive server, and the naive server against the
// exec loop.
func reportThroughput(r *report, c int, floor float64, got, base []sample) {
	rates := func(s []sample) []float64 {
		var xs []float64
		for _, x := range s {
			xs = append(xs, x.rate)
		}
		return xs
	}
	cpus := func(s []sample) []float64 {
		var xs []float64
		for _, x := range s {
			xs = append(xs, x.cpu.Seconds()*1000)
		}
		return xs
	}
	ratios := func(a, b []float64) []float64 {
		var xs []float64
		for i := range a {
			xs = append(xs, a[i]/b[i])
		}
		return xs
	}
	wr, nr, wcpu, ncpu := rates(got), rates(base), cpus(got), cpus(base)
	r.add(fmt.Sprintf("Cloud Run throughput, `true` chunk, concurrency %d", c),
		fmt.Sprintf("%.0f req/s", medianOf(wr)), fmt.Sprintf("%.0f req/s (naive Go server)", medianOf(nr)),
		spread(ratios(wr, nr), "of the naive server", "target ≥ 0.95"))
	r.add(fmt.Sprintf("Cloud Run CPU per chunk, server and chunk processes (user+sys), `true` chunk, concurrency %d", c),
		fmt.Sprintf("%.2f ms", medianOf(wcpu)), fmt.Sprintf("%.2f ms (naive Go server)", medianOf(ncpu)),
		spread(ratios(wcpu, ncpu), "of the naive server", "target ≤ 1.05"))
	r.add(fmt.Sprintf("naive Go server vs exec loop, concurrency %d", c),
		fmt.Sprintf("%.0f req/s", medianOf(nr)), fmt.Sprintf("%.0f exec/s (Go loop exec'ing true)", floor),
		fmt.Sprintf("%.2f of the floor", medianOf(nr)/floor))
}

// spread formats the median of ratios with their range and how many runs
// they come from.
func spread(ratios []float64, of, target string) string {
	return fmt.Sprintf("%.2f %s (median of %d runs, range %.2f–%.2f; %s)",
		medianOf(ratios), of, len(ratios), slices.Min(ratios), slices.Max(ratios), target)
}

// loadServer runs op, a request to s, in c goroutines for d, and returns
// the chunks answered per second and the CPU time that s and the chunk
// processes it waited for used meanwhile, per chunk answered.
func loadServer(ctx context.Context, s *server, c int, d time.Duration, op func() error) (sample, error) {
	pid := s.cmd.Process.Pid
	before, err := procCPU(pid)
	if err != nil {
		return sample{}, err
	}
	rate, n, err := parallel(ctx, c, d, op)
	if err != nil {
		return sample{}, err
	}
	after, err := procCPU(pid)
	if err != nil {
		return sample{}, err
	}
	if n == 0 {
		return sample{}, fmt.Errorf("no chunk answered in %s", d)
	}
	return sample{rate: rate, cpu: (after - before) / time.Duration(n)}, nil
}

// medianOf returns the median of xs, the upper one of an even count.
func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// parallel runs op in c goroutines for d and returns completions per
// second and how many completed; every op started completes before it
// returns.
func parallel(ctx context.Context, c int, d time.Duration, op func() error) (float64, int64, error) {
	var (
		n       atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	start := time.Now()
	stop := start.Add(d)
	for range c {
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				if err := op(); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, 0, first
	}
	return float64(n.Load()) / time.Since(start).Seconds(), n.Load(), ctx.Err()
}
