package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func ExampleSplitCommand() {
	args, err := worker.SplitCommand(`npx helios render --start-frame 0 -o 'chunk 0.mp4' $NOT_EXPANDED`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range args {
		fmt.Printf("%q\n", a)
	}

	_, err = worker.SplitCommand(`echo 'unterminated`)
	fmt.Println(err)
	// Output:
	// "npx"
	// "helios"
	// "render"
	// "--start-frame"
	// "0"
	// "-o"
	// "chunk 0.mp4"
	// "$NOT_EXPANDED"
	// unterminated quote
}

func ExampleDecodeRequest() {
	req, err := worker.DecodeRequest([]byte(`{"jobPath": "s3://renders/job-42.json", "chunkIndex": 3, "extra": true}`))
	fmt.Printf("%+v %v\n", req, err)

	for _, payload := range []string{`[1]`, `{"jobPath": "x", "chunkIndex": "3"}`, `nope`} {
		_, err := worker.DecodeRequest([]byte(payload))
		switch {
		case errors.Is(err, worker.ErrPayloadNotObject):
			fmt.Println("400 Invalid payload: must be an object")
		case errors.Is(err, worker.ErrPayloadFields):
			fmt.Println("400 Invalid payload: missing jobPath or chunkIndex")
		case errors.Is(err, worker.ErrPayloadSyntax):
			fmt.Println("400 Invalid JSON payload")
		}
	}
	// Output:
	// {JobPath:s3://renders/job-42.json ChunkIndex:3} <nil>
	// 400 Invalid payload: must be an object
	// 400 Invalid payload: missing jobPath or chunkIndex
	// 400 Invalid JSON payload
}

func ExampleWorker_Run() {
	dir, err := os.MkdirTemp("", "helios-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	spec := worker.JobSpec{
		ID:     "job-42",
		Chunks: []worker.Chunk{{ID: 0, FrameCount: 150, OutputFile: "chunk_0.mp4", Command: "echo rendered"}},
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

	r := w.Run(context.Background(), worker.Request{JobPath: jobPath, ChunkIndex: 0})
	fmt.Println(r.OK())
	fmt.Print(string(r.Stdout))

	r = w.Run(context.Background(), worker.Request{JobPath: jobPath, ChunkIndex: 1})
	fmt.Println(r.OK(), r.Message())
	// Output:
	// true
	// rendered
	// false Chunk with ID 1 not found in job spec
}
