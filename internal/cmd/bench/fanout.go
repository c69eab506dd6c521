package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// fanoutRuns is how many times each dispatch figure is taken, alternating
// with its baseline; the medians are reported.
const fanoutRuns = 3

// measureFanout measures helios-scaffold run's dispatch (runtime/fanout)
// against plain loops driving the same worker, its fan-out efficiency,
// its memory on a 10,000-chunk spec, and its transfers against the
// stores' own.
func measureFanout(ctx context.Context, r *report, b binaries, dir string, o options) error {
	dir = filepath.Join(dir, "fanout")
	steps := []func() error{
		func() error { return dispatchLocal(ctx, r, dir) },
		func() error { return dispatchCloudRun(ctx, r, b, dir) },
		func() error { return fanoutEfficiency(ctx, r, dir) },
		func() error { return runMemory(ctx, r, dir) },
		func() error { return measureTransfers(ctx, r, dir, o) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// writeSpec writes a spec of n chunks that each run command, with no
// outputFile, into a folder of its own, and loads it.
func writeTrueSpec(dir, name string, n int, command string) (*fanout.Job, error) {
	folder := filepath.Join(dir, name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return nil, err
	}
	chunks := make([]map[string]any, n)
	for i := range chunks {
		chunks[i] = map[string]any{"id": i, "command": command}
	}
	data, err := json.Marshal(map[string]any{"chunks": chunks})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(folder, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	return fanout.ParseJob(path, data)
}

// localJob stages job for the worker core in this process, quiet.
func localJob(job *fanout.Job, dir string) (*fanout.LocalJob, error) {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = filepath.Join(dir, "ws")
	return fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: filepath.Join(dir, "out"),
		Options: []worker.Option{worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler))}})
}

// runFanout times one Runner over job with a fresh state file.
func runFanout(ctx context.Context, job *fanout.Job, target fanout.Target, jobPath, state string, c int) (time.Duration, error) {
	os.Remove(state)
	st, err := fanout.OpenState(ctx, state, job, fanout.StateOptions{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	start := time.Now()
	sum, err := (&fanout.Runner{Target: target, JobPath: jobPath, Concurrency: c, State: st}).Run(ctx, job)
	if err == nil && !sum.Done() {
		err = fmt.Errorf("%d of %d chunks failed: %v", sum.Failed, sum.Chunks, sum.Failures[:min(len(sum.Failures), 1)])
	}
	return time.Since(start), err
}

// plainLoop is the baseline: c goroutines calling target for every chunk.
func plainLoop(ctx context.Context, job *fanout.Job, target fanout.Target, jobPath string, c int) (time.Duration, error) {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(job.Spec.Chunks)); i = next.Add(1) - 1 {
				res, err := target.Call(ctx, jobspec.Request{JobPath: jobPath, ChunkIndex: job.Spec.Chunks[i].ID})
				if err == nil && !res.OK() {
					err = fmt.Errorf("chunk %d: %s", i, res.Message)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		return 0, *e
	}
	return time.Since(start), nil
}

// compareDispatch alternates the Runner and the plain loop and reports
// the medians.
func compareDispatch(ctx context.Context, r *report, what string, job *fanout.Job, target fanout.Target, jobPath, dir string) error {
	var mine, base []time.Duration
	for range fanoutRuns {
		d, err := runFanout(ctx, job, target, jobPath, filepath.Join(dir, "state"), 8)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		mine = append(mine, d)
		if d, err = plainLoop(ctx, job, target, jobPath, 8); err != nil {
			return fmt.Errorf("%s, plain loop: %w", what, err)
		}
		base = append(base, d)
	}
	m, b := median(mine), median(base)
	r.add(what, ms(m), ms(b)+" (8 goroutines, a plain loop)", fmt.Sprintf("%.2f", float64(m)/float64(b)))
	return nil
}

// dispatchLocal: 2,000 true chunks on local, concurrency 8, against the
// worker core driven by 8 goroutines.
func dispatchLocal(ctx context.Context, r *report, dir string) error {
	job, err := writeTrueSpec(dir, "local", 2000, "true")
	if err != nil {
		return err
	}
	l, err := localJob(job, filepath.Join(dir, "local"))
	if err != nil {
		return err
	}
	defer l.Close()
	return compareDispatch(ctx, r, "run --target local: 2,000 true chunks, concurrency 8", job, l.Target, l.JobPath, filepath.Join(dir, "local"))
}

// dispatchCloudRun: the same against one Cloud Run worker binary, through
// runcaller, against 8 goroutines calling runcaller.
func dispatchCloudRun(ctx context.Context, r *report, b binaries, dir string) error {
	job, err := writeTrueSpec(dir, "cloudrun", 2000, "true")
	if err != nil {
		return err
	}
	root := filepath.Join(dir, "cloudrun", "ws")
	os.MkdirAll(root, 0o755)
	first := fmt.Appendf(nil, `{"jobPath":%q,"chunkIndex":0}`, job.Location)
	srv, _, err := startServer(ctx, b.cloudrun, root, first, "HELIOS_PASSTHROUGH=false")
	if err != nil {
		return err
	}
	defer srv.stop()
	caller, err := runcaller.New(ctx, srv.url, runcaller.WithHTTPClient(pooledClient(8)))
	if err != nil {
		return err
	}
	return compareDispatch(ctx, r, "run --target cloudrun: 2,000 true chunks on one worker, concurrency 8", job, caller, job.Location, filepath.Join(dir, "cloudrun"))
}

// fanoutEfficiency: 40 chunks of sleep 1 on local, concurrency 8; the
// ideal is 5 s.
func fanoutEfficiency(ctx context.Context, r *report, dir string) error {
	job, err := writeTrueSpec(dir, "sleep", 40, "sleep 1")
	if err != nil {
		return err
	}
	l, err := localJob(job, filepath.Join(dir, "sleep"))
	if err != nil {
		return err
	}
	defer l.Close()
	d, err := runFanout(ctx, job, l.Target, l.JobPath, filepath.Join(dir, "sleep", "state"), 8)
	if err != nil {
		return err
	}
	r.add("run --target local: 40 chunks of sleep 1, concurrency 8", ms(d), "5000.0 ms (ideal)", fmt.Sprintf("%.2f", d.Seconds()/5))
	return nil
}
