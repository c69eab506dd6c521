package awslambda_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// outputHandler is a handler whose worker uploads outputs to a folder of
// its own, and a spec of the given chunks (outputFile, command).
func outputHandler(t *testing.T, chunks ...[2]string) (*awslambda.Handler, string) {
	t.Helper()
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	cfg.OutputURL = "file://" + t.TempDir()
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
	spec := jobspec.Spec{ID: "out"}
	for i, c := range chunks {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), OutputFile: c[0], Command: c[1]})
	}
	data, _ := json.Marshal(spec)
	path := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return awslambda.NewHandler(w), path
}

// invokeHandler answers one invocation, serialised as Lambda sends it, and
// lambdacaller's reading of it.
func invokeHandler(t *testing.T, h *awslambda.Handler, jobPath string, chunk int64) (awslambda.Body, *worker.CallResult) {
	t.Helper()
	payload, _ := json.Marshal(jobspec.Request{JobPath: jobPath, ChunkIndex: chunk})
	wire, err := h.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp awslambda.Response
	var b awslambda.Body
	if err := json.Unmarshal(wire, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &b) != nil {
		t.Fatalf("answer %s: %v", wire, err)
	}
	res, err := lambdacaller.Parse(wire)
	if err != nil {
		t.Fatalf("lambdacaller.Parse(%s): %v", wire, err)
	}
	return b, res
}

// The answer's outputSha256 is the SHA-256 of the object stored, and
// lambdacaller reads it.
func TestRespondOutputSHA256(t *testing.T) {
	h, job := outputHandler(t,
		[2]string{"chunk_0.mp4", `sh -c 'head -c 300000 /dev/zero | tr "\0" "f" > chunk_0.mp4; echo end >> chunk_0.mp4'`},
		[2]string{"chunk_1.mp4", `sh -c 'printf "" > chunk_1.mp4'`},
	)
	for chunk := range int64(2) {
		b, res := invokeHandler(t, h, job, chunk)
		stored, err := os.ReadFile(strings.TrimPrefix(b.OutputURL, "file://"))
		if err != nil {
			t.Fatalf("chunk %d: reading the output at %q: %v", chunk, b.OutputURL, err)
		}
		sum := sha256.Sum256(stored)
		want := hex.EncodeToString(sum[:])
		if b.OutputSHA256 != want || b.OutputBytes == nil || *b.OutputBytes != int64(len(stored)) {
			t.Errorf("chunk %d: outputSha256 %q, outputBytes %v; want %q, %d: the stored object's",
				chunk, b.OutputSHA256, b.OutputBytes, want, len(stored))
		}
		if !res.OK() || res.OutputSHA256 != want || res.OutputURL != b.OutputURL || res.ErrorKind != "" {
			t.Errorf("chunk %d: lambdacaller read %+v", chunk, *res)
		}
	}
}

// A chunk that cannot run comes back with a final kind, which lambdacaller
// reads; a failed upload of a chunk that ran is no final one.
func TestRespondErrorKind(t *testing.T) {
	h, job := outputHandler(t,
		[2]string{"chunk_0.mp4", "helios-no-such-renderer-5e1b --frames 10"},
		[2]string{"chunk\x00_1.mp4", `sh -c 'echo x > chunk_1.mp4'`},
		[2]string{"chunk_2.mp4", "true"},
		[2]string{"chunk_3.mp4", "sh -c 'exit 3'"},
	)
	for _, tc := range []struct {
		chunk int64
		kind  worker.Kind
	}{{0, worker.KindCommand}, {1, worker.KindSpec}, {2, worker.KindOutput}, {3, worker.KindFailed}, {9, worker.KindSpec}} {
		b, res := invokeHandler(t, h, job, tc.chunk)
		if b.ErrorKind != tc.kind || res.OK() || res.ErrorKind != string(tc.kind) || res.Message != b.Message {
			t.Errorf("chunk %d: errorKind %q, lambdacaller read %+v; want %q", tc.chunk, b.ErrorKind, *res, tc.kind)
		}
	}
}
