package holdproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestProxy(t *testing.T) {
	body := bytes.Repeat([]byte("helios "), 15_000) // 105 kB, several copy buffers
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
		w.Write(body)
	}))
	defer srv.Close()
	const wait = 10 * time.Second
	client := &http.Client{Timeout: wait} // a guard against a hang

	for _, tc := range []struct {
		name string
		path string
		// before is how many times Release is called before the request.
		before int
		// held is whether the answer is to stop halfway; after is how
		// many times Release is then called.
		held   bool
		after  int
		status int
	}{
		{name: "matching held until released", path: "/held", held: true, after: 1, status: http.StatusOK},
		{name: "released twice", path: "/held", held: true, after: 2, status: http.StatusOK},
		{name: "not matching passes whole", path: "/other", status: http.StatusOK},
		{name: "error status passes whole", path: "/missing", status: http.StatusNotFound},
		{name: "matching after release passes whole", path: "/held", before: 1, status: http.StatusOK},
		{name: "matching after two releases passes whole", path: "/held", before: 2, status: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Start(t, srv.URL, func(q *http.Request) bool {
				return q.Method == http.MethodGet && (q.URL.Path == "/held" || q.URL.Path == "/missing")
			})
			if p.Held() {
				t.Fatal("Held() before any request")
			}
			for range tc.before {
				p.Release()
			}
			resp, err := client.Get(p.URL() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.ContentLength; got != int64(len(body)) {
				t.Errorf("Content-Length %d, want %d", got, len(body))
			}
			if !tc.held {
				got, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("body: %d bytes, %v; want all %d", len(got), err, len(body))
				}
				if p.Held() {
					t.Error("Held() after an answer that passed whole")
				}
				return
			}

			half := len(body) / 2
			first := make([]byte, half)
			if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, body[:half]) {
				t.Fatalf("first half: %v", err)
			}
			select {
			case <-p.Holding():
			case <-time.After(wait):
				t.Fatal("Holding() not closed after the first half was sent")
			}
			if !p.Held() {
				t.Error("Held() = false while Holding() is closed")
			}
			type result struct {
				data []byte
				err  error
			}
			rest := make(chan result, 1)
			go func() {
				data, err := io.ReadAll(resp.Body)
				rest <- result{data, err}
			}()
			select {
			case r := <-rest:
				t.Fatalf("%d more bytes (%v) before Release, want none", len(r.data), r.err)
			case <-time.After(200 * time.Millisecond):
			}
			for range tc.after {
				p.Release()
			}
			select {
			case r := <-rest:
				if r.err != nil || !bytes.Equal(append(first, r.data...), body) {
					t.Errorf("after Release: %d bytes in all, %v; want %d", half+len(r.data), r.err, len(body))
				}
			case <-time.After(wait):
				t.Fatal("the rest did not come after Release")
			}

			// Released: the next matching answer passes whole.
			got, err := client.Get(p.URL() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Body.Close()
			if data, err := io.ReadAll(got.Body); err != nil || !bytes.Equal(data, body) {
				t.Errorf("a matching answer after Release: %d bytes, %v; want all %d", len(data), err, len(body))
			}
		})
	}
}

// cleanups is a testing.TB that keeps the funcs given to Cleanup for
// the test to run.
type cleanups struct {
	*testing.T
	funcs []func()
}

func (c *cleanups) Cleanup(f func()) { c.funcs = append(c.funcs, f) }

// A held answer whose client goes ends without a Release: closing the
// server, which waits for its handlers, returns.
func TestClientGoes(t *testing.T) {
	body := bytes.Repeat([]byte("helios "), 15_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	c := &cleanups{T: t}
	p := Start(c, srv.URL, func(*http.Request) bool { return true })
	if len(c.funcs) != 2 {
		t.Fatalf("Start registered %d cleanups, want 2: close the server, release", len(c.funcs))
	}
	defer p.Release()
	resp, err := (&http.Client{Timeout: time.Minute}).Get(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, len(body)/2)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Holding():
	case <-time.After(10 * time.Second):
		t.Fatal("Holding() not closed after the first half was sent")
	}
	resp.Body.Close() // the client goes: a body not read to its end closes the connection
	closed := make(chan struct{})
	go func() {
		c.funcs[0]() // the server's Close
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		p.Release()
		<-closed
		t.Fatal("the held handler outlived its client until Release")
	}
	c.funcs[1]()
}
