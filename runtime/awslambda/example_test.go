package awslambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Respond answers an invocation payload with the contract's
// {statusCode, body} without the Lambda runtime; Invoke is the same,
// serialised. Here the chunk runs and exits 0, then another exits 2.
func ExampleHandler_Respond() {
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = os.TempDir()
	w := worker.New(cfg,
		worker.WithPassthrough(io.Discard, io.Discard),
		worker.WithLogger(slog.New(slog.DiscardHandler)))
	h := awslambda.NewHandler(w)

	for _, event := range []string{
		`{"jobPath": "testdata/job.json", "chunkIndex": 0}`,
		`{"jobPath": "testdata/job.json", "chunkIndex": 1}`,
		`{"jobPath": "testdata/job.json", "chunkIndex": 7}`,
		`[1, 2]`,
	} {
		resp := h.Respond(context.Background(), []byte(event))
		var body awslambda.Body
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			panic(err)
		}
		fmt.Print(resp.StatusCode)
		if body.ExitCode != nil {
			fmt.Printf(" exitCode=%d output=%q stderr=%q", *body.ExitCode, *body.Output, *body.Stderr)
		}
		if body.Message != "" {
			fmt.Printf(" message=%q", body.Message)
		}
		fmt.Println()
	}
	// Output:
	// 200 exitCode=0 output="rendering 30 frames of example\n" stderr=""
	// 500 exitCode=2 output="" stderr="out of memory\n" message="chunk command exited with code 2"
	// 500 message="Chunk with ID 7 not found in job spec"
	// 400 message="Invalid payload: must be an object"
}
