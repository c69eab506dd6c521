// Package holdproxy is an HTTP reverse proxy on loopback, for tests, that
// stops a chosen response halfway: it sends the first half of its body
// and holds the rest until the test releases it. A test puts it between a
// process and a fake server (moto's S3, fake-gcs-server, runapitest) to
// catch the process in the middle of a download, or before it has the
// whole answer to a request whose effect is already done, and there kill
// it (SIGKILL) or look at what it has left on disk so far.
//
//	p := holdproxy.Start(t, srv.URL, func(q *http.Request) bool {
//		return q.Method == http.MethodGet && strings.HasSuffix(q.URL.Path, "/out.mp4")
//	})
//	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+p.URL())
//	// start cmd, wait until p.Held() (or <-p.Holding()), kill it ...
//	p.Release() // what is held, and what comes after, passes whole
//
// What it holds: the answer to a request that match accepts (match sees
// the request as it went to the target) with a 2xx status, until
// [Proxy.Release]. Other answers (match refuses the request, an error
// status, anything once released) pass whole. The status, the headers
// (Content-Length included) and the first half of the body of a held
// answer are sent and flushed at once; the rest follows on Release, or
// the answer ends when its client goes (closes the connection, or is
// killed). Every matching answer is held, not only the first.
//
// [Proxy.Held] and [Proxy.Holding] say that the proxy has held an answer:
// its first half is sent, and the proxy is waiting to send the rest.
//
// The proxy is closed when the test ends: [testing.TB.Cleanup] releases
// what it holds, then closes the server, which waits for its handlers.
// Release may be called any number of times, also concurrently.
package holdproxy
