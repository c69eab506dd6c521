// Package faultproxy forwards TCP connections on loopback to a real
// server (moto_server, fake-gcs-server) and can make that server look as
// if it stopped or hung halfway through a transfer: after a given number
// of bytes in one direction it resets every connection and refuses new
// ones, so that the clients' retries fail too (StopAfter), or it stops
// forwarding on the connections open then without closing them
// (StallAfter). Tests put it between a worker and its store.
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Direction is the way bytes flow through the proxy.
type Direction int

const (
	Upstream   Direction = iota // client to server: uploads
	Downstream                  // server to client: downloads
)

// Proxy is a running proxy; its methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]bool
	links   map[*link]bool
	stopped bool
	stalls  int      // how many times the budget ran out in stall mode
	armed   [2]bool  // StopAfter or StallAfter is set for the direction
	stall   bool     // the armed budget stalls rather than stops
	forGood bool     // a stall also freezes every later connection
	budget  [2]int64 // bytes still allowed while armed
	total   [2]int64
	wg      sync.WaitGroup
}

// link is one forwarded connection: a client's and the proxy's own to
// the server. Once frozen, nothing more passes on it either way; what
// arrives is read and dropped, so that either end closing still ends it.
type link struct {
	client, server net.Conn
	frozen         atomic.Bool
}

// Start listens on a free loopback port and forwards every connection to
// target; the proxy is closed when the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}, links: map[*link]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is http:// and Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// StopAfter stops the server, as the clients see it, once n more bytes
// have passed in dir: every open connection is reset and new ones are
// closed at once until Resume.
func (p *Proxy) StopAfter(dir Direction, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed[dir], p.budget[dir], p.stall = true, n, false
}

// StallAfter makes the server hang, as the clients see it, once n more
// bytes have passed in dir: the connection that carried the n-th byte
// stops forwarding in both directions, and stays open until an end
// closes it. The others pass normally, as when one request hangs and its
// retry gets through. With forGood every connection hangs from then on,
// those open and those made later, until Resume.
func (p *Proxy) StallAfter(dir Direction, n int64, forGood bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed[dir], p.budget[dir], p.stall, p.forGood = true, n, true, forGood
}

// Stalled reports how many connections StallAfter has frozen.
func (p *Proxy) Stalled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalls
}

// Stopped reports whether the proxy has stopped.
func (p *Proxy) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Resume disarms StopAfter and StallAfter and forwards new connections
// again; connections that hang are reset, as by a server that recovered.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped, p.forGood = false, false
	p.armed = [2]bool{}
	for l := range p.links {
		if l.frozen.Load() {
			reset(l.client)
			reset(l.server)
		}
	}
}

// Bytes is how many bytes have passed in dir since Start.
func (p *Proxy) Bytes(dir Direction) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total[dir]
}

// Close stops listening, closes every connection and waits for the
// forwarding goroutines.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// track records a connection, unless the proxy has stopped.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		if server != nil {
			server.Close()
		}
		p.untrack(client)
		reset(client)
		return
	}
	l := p.newLink(client, server)
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(l, server, client, Upstream) })
	wg.Go(func() { p.pipe(l, client, server, Downstream) })
	wg.Wait()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
	p.untrack(client, server)
	client.Close()
	server.Close()
}

// newLink records a new forwarded connection, frozen from the start
// while a stall holds for good.
func (p *Proxy) newLink(client, server net.Conn) *link {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := &link{client: client, server: server}
	if p.forGood && p.stalls > 0 {
		l.frozen.Store(true)
		p.stalls++
	}
	p.links[l] = true
	return l
}

// pipe copies src to dst, counting against dir's budget. At src's end it
// passes the half close on; on any failure it closes both ends, so that
// its twin stops too. While l is frozen it drops what it reads.
func (p *Proxy) pipe(l *link, dst, src net.Conn, dir Direction) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.frozen.Load() {
			allowed, stop := p.take(dir, int64(n))
			if allowed > 0 {
				if _, werr := dst.Write(buf[:allowed]); werr != nil {
					break
				}
			}
			if stop && p.freeze(l) {
				continue
			}
			if stop {
				p.stop()
				return
			}
		}
		if errors.Is(err, io.EOF) && l.frozen.Load() {
			return // a hung server passes no close on either
		}
		if errors.Is(err, io.EOF) {
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
				return
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// take counts n bytes in dir and returns how many may pass, and whether
// the budget ran out with them.
func (p *Proxy) take(dir Direction, n int64) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return 0, true
	}
	if p.armed[dir] && n >= p.budget[dir] {
		allowed := p.budget[dir]
		p.total[dir] += allowed
		p.budget[dir] = 0
		p.armed[dir] = p.armed[dir] && !p.stall // a stall happens once
		return allowed, true
	}
	if p.armed[dir] {
		p.budget[dir] -= n
	}
	p.total[dir] += n
	return n, false
}

// freeze freezes l, on which the budget ran out, if it was a stall's (and
// every open link too, for good), and reports whether it was.
func (p *Proxy) freeze(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stall {
		return false
	}
	l.frozen.Store(true)
	p.stalls++
	if p.forGood {
		for o := range p.links {
			if !o.frozen.Swap(true) {
				p.stalls++
			}
		}
	}
	return true
}

// stop resets every open connection and refuses new ones.
func (p *Proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for c := range p.conns {
		reset(c)
	}
}

// reset closes c with a TCP reset rather than an orderly close, as a
// server that died would.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
