package holdproxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a running hold proxy; its methods are safe for concurrent use.
type Proxy struct {
	url string

	holding  chan struct{} // closed once an answer is held
	heldOnce sync.Once
	released chan struct{} // closed by Release
	relOnce  sync.Once
}

// Start listens on a free loopback port and forwards every request to
// the server at target (an http:// URL), holding halfway the 2xx answers
// to the requests that match accepts; the proxy is closed when the test
// ends.
func Start(t testing.TB, target string, match func(*http.Request) bool) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("holdproxy: target %q: %v", target, err)
	}
	p := &Proxy{holding: make(chan struct{}), released: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // the first half at once
	rp.ModifyResponse = func(r *http.Response) error {
		if p.isReleased() || r.StatusCode/100 != 2 || !match(r.Request) {
			return nil
		}
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		half := len(data) / 2
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data[:half]), &rest{p: p, ctx: r.Request.Context(), data: data[half:]}))
		return nil
	}
	ts := httptest.NewServer(rp)
	t.Cleanup(ts.Close)
	t.Cleanup(p.Release) // before the server closes, which waits for its handlers
	p.url = ts.URL
	return p
}

// URL is the proxy's base URL, http://127.0.0.1:PORT, without a slash at
// its end.
func (p *Proxy) URL() string { return p.url }

// Held reports whether the proxy has held an answer (sent its first half
// and waited for Release); a func() bool to poll.
func (p *Proxy) Held() bool {
	select {
	case <-p.holding:
		return true
	default:
		return false
	}
}

// Holding is closed once the proxy holds an answer, as Held says.
func (p *Proxy) Holding() <-chan struct{} { return p.holding }

// Release sends the rest of every answer held, and lets every answer
// after it pass whole. Calls after the first do nothing.
func (p *Proxy) Release() { p.relOnce.Do(func() { close(p.released) }) }

func (p *Proxy) isReleased() bool {
	select {
	case <-p.released:
		return true
	default:
		return false
	}
}

// rest is the second half of a held answer's body: its first read waits
// for the release, or for the request to end.
type rest struct {
	p    *Proxy
	ctx  context.Context
	data []byte
}

func (r *rest) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if !r.p.isReleased() {
		r.p.heldOnce.Do(func() { close(r.p.holding) })
		select {
		case <-r.p.released:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	n := copy(b, r.data)
	r.data = r.data[n:]
	return n, nil
}
