package cloudrun

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func TestResultBodyOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      worker.Result
		status int
		want   string
	}{
		{"uploaded", worker.Result{Started: true, OutputURL: "gs://renders/out/chunk_3.mp4", OutputBytes: 2048}, 200,
			`{"exitCode":0,"stdout":"","stderr":"","outputUrl":"gs://renders/out/chunk_3.mp4","outputBytes":2048}` + "\n"},
		{"uploaded, empty", worker.Result{Started: true, OutputURL: "gs://renders/out/e", OutputBytes: 0}, 200,
			`{"exitCode":0,"stdout":"","stderr":"","outputUrl":"gs://renders/out/e","outputBytes":0}` + "\n"},
		{"upload failed", worker.Result{Started: true, Err: errors.New("uploading x to gs://b/x: access denied")}, 500,
			`{"exitCode":0,"stdout":"","stderr":"","message":"uploading x to gs://b/x: access denied"}` + "\n"},
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
