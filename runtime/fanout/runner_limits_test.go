package fanout_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A worker that accepts the connection and never answers is given up
// after ChunkTimeout, tried again as a dropped connection is, and then
// reported: the run does not wait for it.
func TestRunChunkTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	caller, err := runcaller.New(t.Context(), "http://"+ln.Addr().String(), runcaller.WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	job := writeJob(t, t.TempDir(), 1, func(int) string { return "true" })
	r := &fanout.Runner{Target: caller, JobPath: job.Location, Retries: 1, Backoff: fastBackoff, ChunkTimeout: 200 * time.Millisecond}
	ctx := testdeadline.Context(t)
	sum, err := r.Run(ctx, job)
	if err != nil || sum.Failed != 1 || sum.Retries != 1 {
		t.Fatalf("Run = %+v, %v; want one chunk failed after one retry", sum, err)
	}
	if why := sum.Failures[0].Reason; !strings.Contains(why, "no answer within the chunk timeout (200ms)") {
		t.Errorf("failure %q, want the chunk timeout named", why)
	}
}

// goroutineCounter answers every call at once, after noting how many
// goroutines the process has.
type goroutineCounter struct{ most atomic.Int64 }

func (c *goroutineCounter) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	n := int64(runtime.NumGoroutine())
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	return &worker.CallResult{StatusCode: 200, HasExitCode: true, Stderr: "rendering\n"}, nil
}

// Concurrency far above the number of chunks costs no more than the
// chunks: no goroutine waits for work that does not exist. Each chunk's
// captured streams land in the log folder.
func TestRunConcurrencyCapped(t *testing.T) {
	job := writeJob(t, t.TempDir(), 2, func(int) string { return "true" })
	logs := filepath.Join(t.TempDir(), "logs")
	target := &goroutineCounter{}
	before := runtime.NumGoroutine()
	r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 1_000_000, Logs: logs}
	sum, err := r.Run(t.Context(), job)
	if err != nil || sum.OK != 2 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	if most := target.most.Load(); most > int64(before+10) {
		t.Errorf("%d goroutines during the run (%d before): the slots were not capped at the 2 chunks", most, before)
	}
	for _, name := range []string{"chunk-0.stderr", "chunk-1.stderr"} {
		if data, err := os.ReadFile(filepath.Join(logs, name)); string(data) != "rendering\n" {
			t.Errorf("%s = %q, %v", name, data, err)
		}
	}
}
