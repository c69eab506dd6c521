package fanout_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Render a three-chunk job with the worker core in this process, two
// chunks at a time, recording each finished chunk in a state file, then
// merge the outputs.
func Example() {
	dir, err := os.MkdirTemp("", "fanout-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	spec := []byte(`{
	  "chunks": [
	    {"id": 0, "outputFile": "part_0.txt", "command": "sh -c 'echo frames 0-29 > part_0.txt'"},
	    {"id": 1, "outputFile": "part_1.txt", "command": "sh -c 'echo frames 30-59 > part_1.txt'"},
	    {"id": 2, "outputFile": "part_2.txt", "command": "sh -c 'echo frames 60-89 > part_2.txt'"}
	  ],
	  "mergeCommand": "sh -c 'cat part_0.txt part_1.txt part_2.txt > out.txt'"
	}`)
	path := filepath.Join(dir, "project", "job.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, spec, 0o644); err != nil {
		log.Fatal(err)
	}
	job, err := fanout.ParseJob(path, spec)
	if err != nil {
		log.Fatal(err)
	}

	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = filepath.Join(dir, "ws")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}
	local, err := fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: out, Options: []worker.Option{
		worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)),
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer local.Close()
	ctx := context.Background()
	state, err := fanout.OpenState(ctx, filepath.Join(out, ".job.helios-run"), job, fanout.StateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer state.Close()

	r := fanout.Runner{Target: local.Target, JobPath: local.JobPath, Concurrency: 2, Retries: 3, State: state}
	sum, err := r.Run(ctx, job)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d chunks ok\n", sum.OK, sum.Chunks)
	// Nothing is merged that is not what its chunk wrote.
	bad, err := fanout.ProveLocal(ctx, fanout.Outputs(job, state), out)
	if err != nil || len(bad) > 0 {
		log.Fatal(bad, err)
	}
	if _, err := fanout.Merge(ctx, job.Spec, out, nil, io.Discard, os.Stderr); err != nil {
		log.Fatal(err)
	}
	merged, _ := os.ReadFile(filepath.Join(out, "out.txt"))
	fmt.Print(string(merged))
	// Output:
	// 3 of 3 chunks ok
	// frames 0-29
	// frames 30-59
	// frames 60-89
}
