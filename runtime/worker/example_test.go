package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func ExampleWorker_Run() {
	dir, err := os.MkdirTemp("", "helios-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	spec := jobspec.Spec{
		ID:     "job-42",
		Chunks: []jobspec.Chunk{{ID: 0, FrameCount: 150, OutputFile: "chunk_0.mp4", Command: "echo rendered"}},
	}
	data, _ := json.Marshal(spec)
	jobPath := filepath.Join(dir, "job-42.json")
	if err := os.WriteFile(jobPath, data, 0o644); err != nil {
		fmt.Println(err)
		return
	}

	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = filepath.Join(dir, "workspaces")
	w := worker.New(cfg,
		worker.WithPassthrough(io.Discard, io.Discard),
		worker.WithLogger(slog.New(slog.DiscardHandler)))

	r := w.Run(context.Background(), jobspec.Request{JobPath: jobPath, ChunkIndex: 0})
	fmt.Println(r.OK())
	fmt.Print(string(r.Stdout))

	r = w.Run(context.Background(), jobspec.Request{JobPath: jobPath, ChunkIndex: 1})
	fmt.Println(r.OK(), r.Message())
	// Output:
	// true
	// rendered
	// false Chunk with ID 1 not found in job spec
}
