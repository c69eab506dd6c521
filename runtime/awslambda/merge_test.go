package awslambda_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

const sum0 = "a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9a3f5f2a5e3c1b7d9"

// The handler sends a payload that names an action to the merge, which
// a payload without one never reaches, and answers a bad merge payload
// with the contract's 400, naming what is wrong. Nothing here renders:
// runtime/worker/merge's tests merge real video, and TestLambdaMerge
// does it through the emulator.
func TestRespondMergeRoutes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
	h := awslambda.NewHandler(w)
	spec := func(name string, s jobspec.Spec) string {
		data, _ := json.Marshal(s)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chunk := jobspec.Chunk{ID: 0, OutputFile: "out_part_0.mp4", Command: "helios render c.html -o out_part_0.mp4"}
	noMerge := spec("nomerge.json", jobspec.Spec{ID: "x", OutputURL: "file://" + dir, Chunks: []jobspec.Chunk{chunk}})
	noOutput := spec("nooutput.json", jobspec.Spec{ID: "x", Chunks: []jobspec.Chunk{chunk}, MergeCommand: "helios merge out.mp4 out_part_0.mp4"})
	merged := spec("merge.json", jobspec.Spec{ID: "x", OutputURL: "file://" + dir, Chunks: []jobspec.Chunk{chunk, {ID: 1, OutputFile: "out_part_1.mp4"}},
		MergeCommand: "helios merge out.mp4 out_part_0.mp4 out_part_1.mp4"})
	outputs := `[{"chunk":0,"outputUrl":"file://` + dir + `/out_part_0.mp4","outputBytes":1,"outputSha256":"` + sum0 + `"}]`

	for _, tc := range []struct {
		name, payload string
		status        int
		kind          worker.Kind
		message       string // exact, or the start of it when it ends with "…"
	}{
		{"another action", `{"jobPath":"j","action":"render","resultsUrl":"r"}`, 400, worker.KindPayload, `Invalid payload: action must be "merge"`},
		{"a merge with a chunkIndex", `{"jobPath":"j","action":"merge","chunkIndex":0,"resultsUrl":"r"}`, 400, worker.KindPayload,
			"Invalid payload: a merge takes no chunkIndex (a worker without merges would run that chunk)"},
		{"neither outputs nor resultsUrl", `{"jobPath":"j","action":"merge"}`, 400, worker.KindPayload,
			"Invalid payload: a merge needs either outputs or resultsUrl, and not both"},
		{"Action", `{"jobPath":"j","Action":"merge","resultsUrl":"r"}`, 400, worker.KindPayload,
			`Invalid payload: ambiguous JSON: key "Action" is not "action" (keys are case-sensitive)`},
		{"a chunk's payload is still a chunk's", `{"jobPath":"j"}`, 400, worker.KindPayload, "Invalid payload: missing jobPath or chunkIndex"},
		{"no mergeCommand", `{"jobPath":` + quote(noMerge) + `,"action":"merge","resultsUrl":"r"}`, 500, worker.KindSpec, "the job spec has no mergeCommand"},
		{"no output location", `{"jobPath":` + quote(noOutput) + `,"action":"merge","resultsUrl":"r"}`, 500, worker.KindSpec, "no output location: …"},
		{"a chunk without its output", `{"jobPath":` + quote(merged) + `,"action":"merge","outputs":` + outputs + `}`, 500, worker.KindOutput,
			"1 of 2 chunks have no output to merge (chunk 1): not in the outputs"},
		{"spec not there", `{"jobPath":` + quote(filepath.Join(dir, "none.json")) + `,"action":"merge","resultsUrl":"r"}`, 500, worker.KindStore, "reading job spec …"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := h.Invoke(testdeadline.Context(t), []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			status, b := decodeBody(t, wire)
			prefix, cut := strings.CutSuffix(tc.message, "…")
			if status != tc.status || b.ErrorKind != tc.kind || !cut && b.Message != tc.message || cut && !strings.HasPrefix(b.Message, prefix) {
				t.Errorf("%d %q %q; want %d %q %q", status, b.ErrorKind, b.Message, tc.status, tc.kind, tc.message)
			}
			if b.ExitCode != nil {
				t.Errorf("exitCode %d: no mergeCommand ran", *b.ExitCode)
			}
			res, err := lambdacaller.Parse(wire)
			if err != nil || res.StatusCode != tc.status || res.Message != b.Message || res.ErrorKind != string(tc.kind) {
				t.Errorf("lambdacaller read %+v, %v", res, err)
			}
		})
	}
	checkEmpty(t, cfg.WorkspaceRoot)
}

// decodeBody decodes a serialised answer strictly: every key of its body
// is a field of Body.
func decodeBody(t *testing.T, wire []byte) (int, awslambda.Body) {
	t.Helper()
	var resp awslambda.Response
	if err := json.Unmarshal(wire, &resp); err != nil {
		t.Fatalf("answer %s: %v", wire, err)
	}
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	var b awslambda.Body
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return resp.StatusCode, b
}
