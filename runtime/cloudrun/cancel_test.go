package cloudrun_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestClientGoneCancelsChunk: a request whose client goes away has its
// chunk killed, process group and all, and its workspace removed.
func TestClientGoneCancelsChunk(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"context", "raw conn"} {
		t.Run(how, func(t *testing.T) {
			cfg := testConfig(t)
			started := newSignalWriter("started")
			e := newEnvWith(t, cfg, "", worker.WithLogger(discard), worker.WithPassthrough(started, io.Discard))
			body := payload(e.spec(t, `sh -c 'echo started; sleep 41'`), 0)

			answered := make(chan error, 1)
			var stop func()
			switch how {
			case "context":
				ctx, cancel := context.WithCancel(testdeadline.Context(t))
				stop = cancel
				go func() {
					_, err := doRequestCtx(ctx, e.srv.Client(), e.srv.URL, body)
					answered <- err
				}()
			case "raw conn":
				conn, err := new(net.Dialer).DialContext(testdeadline.Context(t), "tcp", e.srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				stop = func() { conn.Close() }
				_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				answered <- err
			}
			select {
			case <-started.seen:
			case <-testdeadline.After(t):
				stop()
				t.Fatal("chunk did not start")
			}
			if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "41")) > 0 }) {
				t.Error("no sleep 41 process while the chunk runs")
			}
			stop()
			select {
			case <-answered:
			case <-testdeadline.After(t):
				t.Fatal("client call did not return after cancellation")
			}
			if !waitFor(t, func() bool { return len(procsWithArgs("sleep", "41")) == 0 }) {
				t.Errorf("sleep 41 still running after the client left: pids %v", procsWithArgs("sleep", "41"))
			}
			if !waitFor(t, func() bool { return emptyDir(t, cfg.WorkspaceRoot) }) {
				t.Errorf("workspace root not empty after the client left: %v", dirNames(cfg.WorkspaceRoot))
			}
			e.good(t)
		})
	}
}

func doRequestCtx(ctx context.Context, c *http.Client, url, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// TestConcurrentRequests: 20 chunks at once, each in its own workspace.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	const n, sleep = 20, 2 * time.Second
	cfg := testConfig(t)
	e := newEnv(t, cfg)
	cmds := make([]string, n)
	for i := range cmds {
		cmds[i] = fmt.Sprintf(`sh -c 'echo $HELIOS_CHUNK_ID > mine-$HELIOS_CHUNK_ID; sleep %g; ls -A'`, sleep.Seconds())
	}
	job := e.spec(t, cmds...)

	ctx := testdeadline.Context(t)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res, err := e.caller.Call(ctx, jobspec.Request{JobPath: job, ChunkIndex: int64(i)})
			switch {
			case err != nil:
				errs[i] = err
			case !res.OK():
				errs[i] = fmt.Errorf("status %d: %s (stderr %q)", res.StatusCode, res.Message, res.Stderr)
			case res.Stdout != "mine-"+strconv.Itoa(i)+"\n":
				errs[i] = fmt.Errorf("workspace holds %q, want only mine-%d", res.Stdout, i)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("chunk %d: %v", i, err)
		}
	}
	if !emptyDir(t, cfg.WorkspaceRoot) {
		t.Errorf("workspace root not empty: %v", dirNames(cfg.WorkspaceRoot))
	}
	// One after the other, they would take n*sleep (40 s); at once, little
	// more than sleep, even on a loaded machine.
	if elapsed > n*sleep/2 {
		t.Errorf("%d chunks of %v took %v: they did not run concurrently", n, sleep, elapsed)
	}
	t.Logf("%d concurrent chunks of %v: %v", n, sleep, elapsed)
}
