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

// measureThroughput compares requests per second of the Cloud Run binary
// (a `true` chunk, every feature on, logs drained) with the naive Go
// server (naiveserver: temp dir, `sh -c`, outputs read, answer), both
// running as separate processes, at concurrency 1 and 8; and reports the
// Go loop that only execs true, the floor of both.
func measureThroughput(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	return withServer(ctx, b, j, dir, func(srv *server) error {
		return withNaive(ctx, j, dir, func(naive *server) error { return serverThroughput(ctx, r, srv, naive, j, o) })
	})
}

// throughputRounds is how many times the worker and the naive server take
// turns at each concurrency; the ratio is the median of the rounds'.
const throughputRounds = 5

// serverThroughput loads the worker and the naive server at concurrency 1
// and 8, in alternating rounds that share the measurement time, each
// after the exec loop that is the floor of both.
func serverThroughput(ctx context.Context, r *report, srv, naive *server, j jobs, o options) error {
	d := time.Duration(o.duration * float64(time.Second))
	event := j.event(chunkTrue)
	for _, c := range []int{1, 8} {
		floor, err := parallel(ctx, c, d, func() error { return exec.CommandContext(ctx, "true").Run() })
		if err != nil {
			return fmt.Errorf("exec loop: %w", err)
		}
		client := func() *http.Client {
			return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 30 * time.Second}
		}
		wc, nc := client(), client()
		var got, base, ratios []float64
		for round := range throughputRounds {
			load := func(s *server, cl *http.Client) (float64, error) {
				return parallel(ctx, c, d/throughputRounds, func() error { return s.post(cl, event) })
			}
			var w, n float64
			if round%2 == 0 {
				n, err = load(naive, nc)
				if err == nil {
					w, err = load(srv, wc)
				}
			} else {
				w, err = load(srv, wc)
				if err == nil {
					n, err = load(naive, nc)
				}
			}
			if err != nil {
				return fmt.Errorf("server load: %w", err)
			}
			got, base, ratios = append(got, w), append(base, n), append(ratios, w/n)
		}
		r.add(fmt.Sprintf("Cloud Run throughput, `true` chunk, concurrency %d", c),
			fmt.Sprintf("%.0f req/s", medianOf(got)), fmt.Sprintf("%.0f req/s (naive Go server)", medianOf(base)),
			fmt.Sprintf("%.2f of the naive server", medianOf(ratios)))
		r.add(fmt.Sprintf("naive Go server vs exec loop, concurrency %d", c),
			fmt.Sprintf("%.0f req/s", medianOf(base)), fmt.Sprintf("%.0f exec/s (Go loop exec'ing true)", floor),
			fmt.Sprintf("%.2f of the floor", medianOf(base)/floor))
	}
	return nil
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// parallel runs op in c goroutines for d and returns completions per second.
func parallel(ctx context.Context, c int, d time.Duration, op func() error) (float64, error) {
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
		return 0, first
	}
	return float64(n.Load()) / time.Since(start).Seconds(), ctx.Err()
}
