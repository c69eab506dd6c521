package awslambda

import (
	"fmt"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// A merge's answer is a chunk's, with what it merged and checked, and
// fits in Lambda's response limit whatever the mergeCommand printed.
func TestMergeResponse(t *testing.T) {
	t.Parallel()
	ok := &merge.Result{Result: worker.Result{Started: true, Stdout: []byte("merged\n"), OutputURL: "s3://b/out/out.mp4",
		OutputBytes: 1234, OutputSHA256: strings.Repeat("ab", 32)}, Chunks: 3, Frames: 90}
	want := `{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"merged\\n\",\"stderr\":\"\",\"outputUrl\":\"s3://b/out/out.mp4\",` +
		`\"outputBytes\":1234,\"outputSha256\":\"` + strings.Repeat("ab", 32) + `\",\"chunks\":3,\"frames\":90}"}`
	if got := string(marshal(mergeResponse(ok))); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	unchecked := &merge.Result{Result: worker.Result{Started: true}, Chunks: 2, Warning: merge.NoProbeWarning}
	if status, b := decodeWire(t, marshal(mergeResponse(unchecked))); status != 200 || b.Warning != merge.NoProbeWarning || b.Frames != 0 {
		t.Errorf("%d %+v: want 200 and the warning", status, b)
	}

	refused := &merge.Result{Result: worker.Result{Err: fmt.Errorf("%w: 1 of 3 chunks have no output", worker.ErrOutputMissing)}}
	status, b := decodeWire(t, marshal(mergeResponse(refused)))
	if status != 500 || b.ExitCode != nil || b.ErrorKind != worker.KindOutput || !strings.Contains(b.Message, "1 of 3 chunks") {
		t.Errorf("%d %+v: want a 500 of kind output, without an exit code", status, b)
	}

	loud := &merge.Result{Result: worker.Result{Started: true, ExitCode: 1, Err: fmt.Errorf("mergeCommand exited with code 1"),
		Stdout: []byte(strings.Repeat("\x01<", 4<<20)), Stderr: []byte(strings.Repeat("e", 4<<20))}, Chunks: 3}
	wire := marshal(mergeResponse(loud))
	if len(wire) > MaxResponseBytes {
		t.Errorf("the answer is %d bytes, over %d", len(wire), MaxResponseBytes)
	}
	if status, b := decodeWire(t, wire); status != 500 || !b.OutputTruncated || !b.StderrTruncated || b.Chunks != 3 || *b.ExitCode != 1 {
		t.Errorf("%d, truncated %v %v, chunks %d: want 500, both cut, 3", status, b.OutputTruncated, b.StderrTruncated, b.Chunks)
	}
}
