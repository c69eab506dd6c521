package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// FleetOptions configure a [Fleet].
type FleetOptions struct {
	// Size is how many emulators, each serving one invocation at a time,
	// the fleet runs: its concurrency.
	Size int
	// Options are the options of emulator i (from 0), which may give each
	// its own workspace root; the zero Options when nil.
	Options func(i int) Options
	// Function is the name the fleet answers invokes of; FunctionName
	// when "". An invoke may name it by name or by ARN, with or without a
	// qualifier.
	Function string
	// ControlPlane is the base URL (moto_server's endpoint, say) that
	// every request but an invoke and GetAccountSettings is forwarded to:
	// GetFunctionConfiguration, GetFunctionConcurrency and the like. When
	// "", the fleet answers them 404 UnknownOperationException.
	ControlPlane string
	// Account is what the fleet answers GetAccountSettings with.
	Account AccountSettings
}

// AccountSettings are the account's concurrency limits that a Fleet
// reports, as GetAccountSettings' AccountLimit does.
type AccountSettings struct {
	// ConcurrentExecutions is the account's concurrency in the region;
	// 1000, Lambda's default, when 0.
	ConcurrentExecutions int
	// UnreservedConcurrentExecutions is what functions without a
	// reservation share; the fleet's size when 0, so that a client that
	// reads it runs no more than the fleet can.
	UnreservedConcurrentExecutions int
}

// Fleet is Size emulators behind one loopback endpoint that answers as
// the Lambda service does, as far as helios-scaffold run needs:
//
//   - an invoke (POST /2015-03-31/functions/NAME/invocations) of the
//     fleet's function goes to an idle emulator; when every emulator is
//     busy it is refused as Lambda refuses an invoke past the function's
//     concurrency: 429 TooManyRequestsException, which the SDK returns as
//     a *types.TooManyRequestsException. An emulator stays busy until its
//     invocation has ended, whatever its caller does: a caller that goes
//     away (a hedge's loser, a timeout) leaves the function running, as
//     on Lambda, and the emulator is handed out again only once the
//     function has answered.
//   - GetAccountSettings (GET /2016-08-19/account-settings/), which
//     moto_server 5.2.1 does not implement, is answered from
//     FleetOptions.Account;
//   - everything else is forwarded to FleetOptions.ControlPlane, where the
//     function is created (its memory, architecture, reserved
//     concurrency).
type Fleet struct {
	// Endpoint is the fleet's address, http://127.0.0.1:PORT: what
	// AWS_ENDPOINT_URL_LAMBDA points at.
	Endpoint string
	// Function is the name of the function the fleet serves.
	Function string
	// Client is an aws-sdk-go-v2 Lambda client for Endpoint, anonymous
	// and without retries.
	Client *lambda.Client
	// Emulators are the fleet's instances.
	Emulators []*Emulator

	ctx      context.Context // ends when the fleet closes
	cancel   context.CancelFunc
	srv      *http.Server
	control  http.Handler // nil without a control plane
	account  []byte       // the GetAccountSettings answer
	upstream *http.Client // to the emulators

	mu          sync.Mutex
	closed      bool
	busy        []bool
	invocations []int
	throttled   int
	abandoned   int
	requests    int
	running     sync.WaitGroup // handlers and upstream invocations
	closeOnce   sync.Once
}

// Paths of the Lambda API that the fleet tells apart.
const (
	invokePrefix    = "/2015-03-31/functions/"
	invokeSuffix    = "/invocations"
	accountSettings = "/2016-08-19/account-settings"
)

// maxPayload is Lambda's limit on a synchronous invoke's request and
// response payloads; maxUpstream bounds what the fleet keeps of an
// emulator's answer (which the emulator does not limit).
const (
	maxPayload  = 6 << 20
	maxUpstream = 32 << 20
)

// tooManyRequests is Lambda's answer to an invoke past the function's
// concurrency.
const tooManyRequests = `{"Type":"User","message":"Rate Exceeded."}`

// StartFleetT starts o.Size emulators of b with StartT and the fleet's
// endpoint in front of them, all stopped in tb.Cleanup (the fleet first:
// its emulators' own cleanups then log their output if tb failed).
func StartFleetT(tb testing.TB, b Binaries, o FleetOptions) *Fleet {
	tb.Helper()
	if o.Size < 1 {
		tb.Fatalf("lambdatest: a fleet of %d emulators", o.Size)
	}
	f := &Fleet{Function: o.Function, busy: make([]bool, o.Size), invocations: make([]int, o.Size)}
	if f.Function == "" {
		f.Function = FunctionName
	}
	for i := range o.Size {
		var opts Options
		if o.Options != nil {
			opts = o.Options(i)
		}
		f.Emulators = append(f.Emulators, StartT(tb, b, opts))
	}
	acct := o.Account
	if acct.ConcurrentExecutions == 0 {
		acct.ConcurrentExecutions = 1000
	}
	if acct.UnreservedConcurrentExecutions == 0 {
		acct.UnreservedConcurrentExecutions = o.Size
	}
	f.account, _ = json.Marshal(map[string]any{
		"AccountLimit": map[string]any{
			"TotalCodeSize":                  80530636800,
			"CodeSizeUnzipped":               262144000,
			"CodeSizeZipped":                 52428800,
			"ConcurrentExecutions":           acct.ConcurrentExecutions,
			"UnreservedConcurrentExecutions": acct.UnreservedConcurrentExecutions,
		},
		"AccountUsage": map[string]any{"TotalCodeSize": 0, "FunctionCount": 1},
	})
	if o.ControlPlane != "" {
		u, err := url.Parse(o.ControlPlane)
		if err != nil || u.Host == "" {
			tb.Fatalf("lambdatest: control plane %q: want a base URL (%v)", o.ControlPlane, err)
		}
		f.control = httputil.NewSingleHostReverseProxy(u)
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.upstream = &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1, // an emulator serves one invocation at a time
		DisableCompression:  true,
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.cancel()
		tb.Fatalf("lambdatest: the fleet's listener: %v", err)
	}
	f.Endpoint = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: time.Minute}
	go func() { _ = f.srv.Serve(ln) }()
	f.Client = lambda.New(lambda.Options{
		BaseEndpoint: aws.String(f.Endpoint),
		Region:       "us-east-1",
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
	tb.Cleanup(func() {
		f.Close()
		if tb.Failed() {
			tb.Logf("fleet: invocations per emulator %v, %d refused with 429", f.Invocations(), f.Throttled())
		}
	})
	return f
}

// Close stops the emulators and the endpoint, and waits for what the
// fleet started to end (a minute at most for each emulator). It is safe
// to call twice.
func (f *Fleet) Close() {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		for _, e := range f.Emulators {
			e.Stop() // ends every invocation in flight
		}
		f.cancel()
		_ = f.srv.Close()
		f.upstream.CloseIdleConnections()
		f.running.Wait()
	})
}

// Invocations is how many invocations each emulator was given.
func (f *Fleet) Invocations() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.invocations...)
}

// Throttled is how many invokes were refused with 429 because every
// emulator was busy.
func (f *Fleet) Throttled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.throttled
}

// Abandoned is how many invokes the fleet saw their callers give up
// while their invocation ran on.
func (f *Fleet) Abandoned() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.abandoned
}

// Busy is how many emulators are running an invocation.
func (f *Fleet) Busy() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, b := range f.busy {
		if b {
			n++
		}
	}
	return n
}

// WaitBusy waits until exactly n emulators are running an invocation, at
// most timeout, and reports whether they were.
func (f *Fleet) WaitBusy(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if f.Busy() == n {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ServeHTTP answers one request of the Lambda API.
func (f *Fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		lambdaError(w, http.StatusServiceUnavailable, "ServiceException", "the fleet is closed", "")
		return
	}
	f.running.Add(1)
	f.mu.Unlock()
	defer f.running.Done()

	path := r.URL.Path
	if name, ok := invokedName(path); ok && r.Method == http.MethodPost {
		f.invoke(w, r, name)
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.TrimSuffix(path, "/") == accountSettings:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-RequestId", f.requestID())
		_, _ = w.Write(f.account)
	case f.control != nil:
		f.control.ServeHTTP(w, r)
	default:
		lambdaError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("the fleet has no control plane to answer %s %s", r.Method, path), f.requestID())
	}
}

// invokedName is the function that path invokes, and false when path is
// not an invoke's.
func invokedName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, invokePrefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, invokeSuffix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// functionOf is the function's name in a name, a partial ARN
// (123456789012:function:NAME) or an ARN, with or without a version or
// alias.
func functionOf(name string) string {
	parts := strings.Split(name, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn":
		return parts[6]
	case len(parts) >= 3 && parts[1] == "function":
		return parts[2]
	}
	return parts[0]
}

// upstreamAnswer is an emulator's answer to one invocation.
type upstreamAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// invoke runs one invocation on an idle emulator, or refuses it.
func (f *Fleet) invoke(w http.ResponseWriter, r *http.Request, name string) {
	id := f.requestID()
	if functionOf(name) != f.Function {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:123456789012:function:"+name, id)
		return
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
			"the fleet runs synchronous invokes only (RequestResponse), not "+t, id)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return // the caller went away
	}
	if len(payload) > maxPayload {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", maxPayload), id)
		return
	}
	i, ok := f.acquire()
	if !ok {
		lambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException", "", id)
		return
	}
	// The invocation runs on the fleet's context, not the caller's. The
	// emulator, as Lambda, goes on with a function whose caller went
	// away: closing its connection would not stop the function, and
	// would lose the one sign that it ended, its answer. So the fleet
	// reads that answer to its end whatever the caller does, and only
	// then hands the emulator out again.
	answer := make(chan upstreamAnswer, 1)
	f.running.Add(1)
	go func() {
		defer f.running.Done()
		answer <- f.forward(i, id, r.Header, payload)
	}()
	var a upstreamAnswer
	select {
	case a = <-answer:
	case <-r.Context().Done():
		f.mu.Lock()
		f.abandoned++
		f.mu.Unlock()
		return // the emulator is freed when its invocation ends
	}
	if a.err != nil {
		lambdaError(w, http.StatusBadGateway, "ServiceException",
			fmt.Sprintf("the fleet's emulator %d did not answer: %v", i, a.err), id)
		return
	}
	for k, vs := range a.header {
		switch k {
		case "Content-Length", "Date", "Connection", "Transfer-Encoding":
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("X-Amzn-RequestId", id)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// acquire marks an idle emulator busy and counts the invocation, or
// counts a refusal and reports false when none is idle.
func (f *Fleet) acquire() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.busy {
		if !b {
			f.busy[i] = true
			f.invocations[i]++
			return i, true
		}
	}
	f.throttled++
	return 0, false
}

// forward sends an invocation to emulator i and reads its answer to the
// end, then frees the emulator: once the answer has ended, the emulator
// has released the function and takes the next invocation.
func (f *Fleet) forward(i int, id string, h http.Header, payload []byte) upstreamAnswer {
	defer func() {
		f.mu.Lock()
		f.busy[i] = false
		f.mu.Unlock()
	}()
	e := f.Emulators[i]
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, e.Endpoint+invokePrefix+FunctionName+invokeSuffix, bytes.NewReader(payload))
	if err != nil {
		return upstreamAnswer{err: err}
	}
	for _, k := range []string{"Content-Type", "X-Amz-Client-Context", "X-Amzn-Trace-Id"} {
		if v := h.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.upstream.Do(req)
	if err != nil {
		return upstreamAnswer{err: err}
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, err = io.Copy(&body, io.LimitReader(resp.Body, maxUpstream+1))
	if err == nil && body.Len() > maxUpstream {
		_, _ = io.Copy(io.Discard, resp.Body) // to its end: the invocation is over only then
		err = fmt.Errorf("an answer of more than %d bytes", maxUpstream)
	}
	if err != nil {
		return upstreamAnswer{err: err}
	}
	return upstreamAnswer{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
}

// requestID is a request id of the fleet's own.
func (f *Fleet) requestID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	return "fleet-" + strconv.Itoa(f.requests)
}

// lambdaError answers an error as Lambda does: its type in
// X-Amzn-ErrorType, which the SDK maps to an error type, and a JSON
// body.
func lambdaError(w http.ResponseWriter, status int, typ, msg, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	if id != "" {
		w.Header().Set("X-Amzn-RequestId", id)
	}
	w.WriteHeader(status)
	if typ == "TooManyRequestsException" {
		_, _ = io.WriteString(w, tooManyRequests)
		return
	}
	body, _ := json.Marshal(map[string]string{"Type": "User", "message": msg})
	_, _ = w.Write(body)
}
