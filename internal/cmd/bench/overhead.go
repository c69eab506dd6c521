package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// measureOverhead compares worker.Run of a `true` chunk (spec load,
// workspace, process group, capture, logs) with exec'ing /bin/true, in
// alternating rounds so that both see the same machine.
func measureOverhead(ctx context.Context, r *report, j jobs, dir string) error {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = dir
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard),
		worker.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	req := jobspec.Request{JobPath: j.spec, ChunkIndex: chunkTrue}
	const rounds, perRound = 7, 300
	var runs, execs []time.Duration
	for range rounds {
		start := time.Now()
		for range perRound {
			if err := exec.CommandContext(ctx, "/bin/true").Run(); err != nil {
				return fmt.Errorf("exec true: %w", err)
			}
		}
		execs = append(execs, time.Since(start)/perRound)
		start = time.Now()
		for range perRound {
			if res := w.Run(ctx, req); !res.OK() {
				return fmt.Errorf("worker run: %s", res.Message())
			}
		}
		runs = append(runs, time.Since(start)/perRound)
	}
	run, base := median(runs), median(execs)
	r.add("time per invocation, in process (`true` chunk)", us(run), us(base)+" (exec /bin/true)",
		fmt.Sprintf("%.2f× (overhead %s)", float64(run)/float64(base), us(run-base)))
	return nil
}

func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }
