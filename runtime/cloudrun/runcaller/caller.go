// Package runcaller calls a Helios worker deployed on Google Cloud Run and
// reads its answer as the wire contract's "Callers" section says. It is
// kept apart from runtime/cloudrun so that worker binaries do not carry
// Google's auth libraries.
package runcaller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/api/idtoken"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// maxResponseBytes bounds a response read: Cloud Run's own limit for an
// HTTP/1 response is 32 MiB.
const maxResponseBytes = 32 << 20

// Caller posts invocations to one service URL.
type Caller struct {
	url    string
	client *http.Client
}

// An Option changes a Caller made by [New].
type Option func(*Caller)

// WithHTTPClient makes the caller use c instead of an ID-token client.
func WithHTTPClient(c *http.Client) Option {
	return func(cl *Caller) { cl.client = c }
}

// New returns a caller of the service at url. Unless WithHTTPClient is
// given, requests carry a Google ID token whose audience is url, made from
// the ambient service-account credentials (Cloud Run refuses callers
// without one: invoker IAM stays on).
func New(ctx context.Context, url string, opts ...Option) (*Caller, error) {
	c := &Caller{url: url}
	for _, o := range opts {
		o(c)
	}
	if c.client == nil {
		client, err := idtoken.NewClient(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("making an ID-token client for %s: %w", url, err)
		}
		c.client = client
	}
	return c, nil
}

// ErrMalformed is wrapped when the answer is not in the contract's shape.
var ErrMalformed = errors.New("malformed worker response")

// Call runs the chunk and returns the worker's answer. A non-nil error
// means there is no answer (the request failed, or the answer is not JSON
// from a worker); a chunk that failed is not an error: see CallResult.OK.
func (c *Caller) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", c.url, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading answer of %s: %w", c.url, err)
	}
	return Parse(resp.StatusCode, body)
}

// Parse reads a worker's HTTP answer: exitCode, stdout (or output) and
// stderr from the JSON body; any status but 200 is a failure whose reason
// is message and whose kind, when the worker gives one, errorKind. A body
// that is not JSON (a 504 from Cloud Run's front end, say) is
// ErrMalformed, with the status in the text.
func Parse(status int, body []byte) (*worker.CallResult, error) {
	var b struct {
		cloudrun.Body
		Output *string `json:"output"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, &StatusError{StatusCode: status, Body: string(body[:min(len(body), 200)])}
	}
	r := &worker.CallResult{StatusCode: status, Message: b.Message}
	if b.ExitCode != nil {
		r.ExitCode, r.HasExitCode = *b.ExitCode, true
	}
	switch {
	case b.Stdout != nil:
		r.Stdout = *b.Stdout
	case b.Output != nil:
		r.Stdout = *b.Output
	}
	if b.Stderr != nil {
		r.Stderr = *b.Stderr
	}
	r.OutputURL, r.OutputSHA256, r.Renderer = b.OutputURL, b.OutputSHA256, b.Renderer
	if b.OutputBytes != nil {
		r.OutputBytes = *b.OutputBytes
	}
	if status != http.StatusOK {
		r.ErrorKind = string(b.ErrorKind)
	}
	return r, nil
}

// StatusError is an answer that is not a worker's, a body that is not
// JSON: from Cloud Run's front end (429 when the service is at its
// instance limit, 503 or 504 when no instance took the request in time),
// or from a proxy. It wraps [ErrMalformed].
type StatusError struct {
	StatusCode int
	Body       string // its first 200 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%v: status %d: %s", ErrMalformed, e.StatusCode, e.Body)
}

func (e *StatusError) Unwrap() error { return ErrMalformed }

// Temporary reports whether the status says that the same request may
// succeed later: 429, 502, 503 and 504.
func (e *StatusError) Temporary() bool {
	switch e.StatusCode {
	case 429, 502, 503, 504:
		return true
	}
	return false
}
