package faultproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestForwardsAndStops(t *testing.T) {
	body := bytes.Repeat([]byte("helios "), 100_000) // 700 kB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(body)
	}))
	defer srv.Close()
	p := Start(t, strings.TrimPrefix(srv.URL, "http://"))
	client := &http.Client{Timeout: time.Minute} // a guard against a hang

	get := func() ([]byte, error) {
		resp, err := client.Get(p.URL())
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	got, err := get()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("through the proxy: %d bytes, %v; want %d bytes", len(got), err, len(body))
	}
	if n := p.Bytes(Downstream); n < int64(len(body)) {
		t.Errorf("Bytes(Downstream) = %d, want at least %d", n, len(body))
	}

	p.StopAfter(Downstream, 100_000)
	got, err = get()
	if err == nil {
		t.Fatalf("a download cut at 100 kB succeeded with %d bytes", len(got))
	}
	if !p.Stopped() {
		t.Error("Stopped() = false after the budget ran out")
	}
	if _, err := get(); err == nil {
		t.Error("a new connection succeeded while stopped")
	}

	p.Resume()
	if got, err := get(); err != nil || !bytes.Equal(got, body) {
		t.Errorf("after Resume: %d bytes, %v", len(got), err)
	}

	p.StopAfter(Upstream, 10_000)
	resp, err := client.Post(p.URL(), "application/octet-stream", bytes.NewReader(body))
	if err == nil {
		resp.Body.Close()
		t.Error("an upload cut at 10 kB succeeded")
	}
}

func TestStalls(t *testing.T) {
	body := bytes.Repeat([]byte("helios "), 100_000) // 700 kB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(body)
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		forGood bool
	}{
		{"once", false},
		{"for good", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Start(t, strings.TrimPrefix(srv.URL, "http://"))
			// Short timeouts, since a hung request is the point. fresh
			// makes a connection per request; pooled keeps one idle.
			fresh := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
			pooled := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{}}
			get := func(c *http.Client) ([]byte, error) {
				resp, err := c.Get(p.URL())
				if err != nil {
					return nil, err
				}
				defer resp.Body.Close()
				return io.ReadAll(resp.Body)
			}
			if _, err := get(pooled); err != nil {
				t.Fatal(err)
			}
			p.StallAfter(Downstream, 100_000, tt.forGood)
			got, err := get(fresh)
			if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
				t.Fatalf("a download stalled at 100 kB: %d bytes, %v; want a client timeout", len(got), err)
			}
			if p.Stalled() == 0 {
				t.Error("Stalled() = 0 after a stall")
			}
			for _, c := range []*http.Client{pooled, fresh} { // the idle connection, a new one
				got, err = get(c)
				if tt.forGood == (err == nil) || !tt.forGood && !bytes.Equal(got, body) {
					t.Errorf("after the stall: %d bytes, %v; want a hang: %v", len(got), err, tt.forGood)
				}
			}
			p.Resume()
			for _, c := range []*http.Client{pooled, fresh} {
				if got, err := get(c); err != nil || !bytes.Equal(got, body) {
					t.Errorf("after Resume: %d bytes, %v", len(got), err)
				}
			}
		})
	}
}
