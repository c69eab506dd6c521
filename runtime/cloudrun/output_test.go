package cloudrun_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// An answer that names an uploaded output carries the SHA-256 of the
// object stored, over HTTP and as runcaller reads it.
func TestHTTPOutputSHA256(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.OutputURL = "file://" + t.TempDir()
	e := newEnv(t, cfg)
	job := e.spec(t,
		`sh -c 'head -c 200000 /dev/urandom > out.mp4'`,
		`sh -c 'printf "" > out.mp4'`,
	)
	for chunk := range int64(2) {
		r := e.do(t, "POST", payload(job, chunk))
		r.check(t, 200, "")
		url := r.str(t, "outputUrl")
		stored, err := os.ReadFile(strings.TrimPrefix(url, "file://"))
		if err != nil {
			t.Fatalf("chunk %d: reading the output at %q: %v (body %s)", chunk, url, err, r.raw)
		}
		sum := sha256.Sum256(stored)
		want := hex.EncodeToString(sum[:])
		if got := r.str(t, "outputSha256"); got != want {
			t.Errorf("chunk %d: outputSha256 %q, want %q, the stored object's", chunk, got, want)
		}
		res, err := e.caller.Call(testdeadline.Context(t), jobspec.Request{JobPath: job, ChunkIndex: chunk})
		if err != nil || !res.OK() || res.OutputURL != url {
			t.Fatalf("chunk %d: Caller.Call = %+v, %v", chunk, res, err)
		}
		again, _ := os.ReadFile(strings.TrimPrefix(url, "file://")) // the call rendered it again
		sum = sha256.Sum256(again)
		if res.OutputSHA256 != hex.EncodeToString(sum[:]) || res.ErrorKind != "" {
			t.Errorf("chunk %d: runcaller read OutputSHA256 %q, ErrorKind %q; want %x and none", chunk, res.OutputSHA256, res.ErrorKind, sum)
		}
	}
}

// The kind of a failure reaches the caller.
func TestHTTPErrorKinds(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.OutputURL = "file://" + t.TempDir()
	e := newEnv(t, cfg)
	job := e.rawSpec(t, `{"id":"kinds","chunks":[
		{"id":0,"outputFile":"out.mp4","command":"helios-no-such-renderer-5e1b --frames 10"},
		{"id":1,"outputFile":"out\u0000.mp4","command":"sh -c 'echo x > out.mp4'"},
		{"id":2,"outputFile":"out.mp4","command":"true"},
		{"id":3,"outputFile":"out.mp4","command":"sh -c 'exit 3'"}]}`)
	for _, tc := range []struct {
		chunk int64
		kind  worker.Kind
	}{{0, worker.KindCommand}, {1, worker.KindSpec}, {2, worker.KindOutput}, {3, worker.KindFailed}, {9, worker.KindSpec}} {
		res, err := e.caller.Call(testdeadline.Context(t), jobspec.Request{JobPath: job, ChunkIndex: tc.chunk})
		if err != nil || res.OK() || res.ErrorKind != string(tc.kind) {
			t.Errorf("chunk %d: Caller.Call = %+v, %v; want a failure of kind %q", tc.chunk, res, err, tc.kind)
		}
	}
}
