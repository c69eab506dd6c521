package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"
)

// measureThroughput compares requests per second of the Cloud Run binary
// (a `true` chunk, every feature on, logs drained) with a Go loop that only
// execs true, at concurrency 1 and 8.
func measureThroughput(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	return withServer(ctx, b, j, dir, func(srv *server) error { return serverThroughput(ctx, r, srv, j, o) })
}

// serverThroughput loads a running server at concurrency 1 and 8, each
// after the exec loop that is its floor.
func serverThroughput(ctx context.Context, r *report, srv *server, j jobs, o options) error {
	d := time.Duration(o.duration * float64(time.Second))
	for _, c := range []int{1, 8} {
		floor, err := parallel(ctx, c, d, func() error { return exec.CommandContext(ctx, "true").Run() })
		if err != nil {
			return fmt.Errorf("exec loop: %w", err)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 30 * time.Second}
		event := j.event(chunkTrue)
		got, err := parallel(ctx, c, d, func() error { return srv.post(client, event) })
		if err != nil {
			return fmt.Errorf("cloud run load: %w", err)
		}
		r.add(fmt.Sprintf("Cloud Run throughput, `true` chunk, concurrency %d", c),
			fmt.Sprintf("%.0f req/s", got), fmt.Sprintf("%.0f exec/s (Go loop exec'ing true)", floor),
			fmt.Sprintf("%.2f of the floor", got/floor))
	}
	return nil
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
