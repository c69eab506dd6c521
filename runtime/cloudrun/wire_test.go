package cloudrun

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/wiretest"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// sha256Hex is the SHA-256 of "x\n", as an answer carries one.
const sha256Hex = "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"

func TestResultBodyOutput(t *testing.T) {
	_, notFound := (&jobspec.Spec{}).Chunk(9)
	for _, tc := range []struct {
		name   string
		r      worker.Result
		status int
		want   string
	}{
		{"uploaded", worker.Result{Started: true, OutputURL: "gs://renders/out/chunk_3.mp4", OutputBytes: 2048, OutputSHA256: sha256Hex}, 200,
			`{"exitCode":0,"stdout":"","stderr":"","outputUrl":"gs://renders/out/chunk_3.mp4","outputBytes":2048,"outputSha256":"` + sha256Hex + `"}` + "\n"},
		{"uploaded, empty", worker.Result{Started: true, OutputURL: "gs://renders/out/e", OutputBytes: 0}, 200,
			`{"exitCode":0,"stdout":"","stderr":"","outputUrl":"gs://renders/out/e","outputBytes":0}` + "\n"},
		{"upload failed", worker.Result{Started: true, Err: errors.New("uploading x to gs://b/x: connection reset")}, 500,
			`{"exitCode":0,"stdout":"","stderr":"","message":"uploading x to gs://b/x: connection reset","errorKind":"store"}` + "\n"},
		{"upload refused", worker.Result{Started: true, Err: fmt.Errorf("uploading x to gs://b/x: %w", store.ErrAccessDenied)}, 500,
			`{"exitCode":0,"stdout":"","stderr":"","message":"uploading x to gs://b/x: access denied","errorKind":"not-allowed"}` + "\n"},
		{"command failed", worker.Result{Started: true, ExitCode: 3}, 500,
			`{"exitCode":3,"stdout":"","stderr":"","message":"chunk command exited with code 3","errorKind":"failed"}` + "\n"},
		{"not started", worker.Result{Err: notFound}, 500,
			`{"message":"Chunk with ID 9 not found in job spec","errorKind":"spec"}` + "\n"},
		{"nothing uploaded", worker.Result{Started: true}, 200, `{"exitCode":0,"stdout":"","stderr":""}` + "\n"},
	} {
		rec := httptest.NewRecorder()
		status, b := resultBody(&tc.r)
		writeJSON(rec, status, b)
		if rec.Code != tc.status || rec.Body.String() != tc.want {
			t.Errorf("%s: %d %s\nwant %d %s", tc.name, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
}

// The status of every answer is the worker's one status for its Result
// (worker.Result.Status), which the Lambda answer and fanout's local
// target share. (A payload that DecodeRequest refuses is answered in
// handler.go, 400 whatever the error, as worker.StatusOf gives it.)
func TestResultBodyStatus(t *testing.T) {
	ambiguous := wiretest.AmbiguousSpec()
	for _, tc := range wiretest.StatusCases() {
		status, _ := resultBody(&tc.Result)
		if status != tc.Status || status != tc.Result.Status() {
			t.Errorf("%s: status %d, want %d (Result.Status %d)", tc.Name, status, tc.Status, tc.Result.Status())
		}
	}
	// The body of a 400 for an ambiguous spec is as it was.
	rec := httptest.NewRecorder()
	status, b := resultBody(&worker.Result{Err: ambiguous})
	writeJSON(rec, status, b)
	want := `{"message":"decoding job spec: ambiguous JSON: key \"id\" appears twice","errorKind":"spec"}` + "\n"
	if rec.Code != 400 || rec.Body.String() != want {
		t.Errorf("ambiguous spec: %d %s\nwant 400 %s", rec.Code, rec.Body, want)
	}
}
