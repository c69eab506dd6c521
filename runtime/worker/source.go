package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// A Source opens the documents that jobPath and assetsUrl name, for one URL
// scheme. The worker bounds the size it reads and the time it takes.
// Sources for s3:// and gs:// plug in with [WithSource], so that this
// package imports no cloud SDK.
type Source interface {
	// Open returns the content at location, which is the whole jobPath
	// (for example "s3://bucket/key"). A missing document is an error
	// that names it.
	Open(ctx context.Context, location string) (io.ReadCloser, error)
}

// ErrNoSource is wrapped when a location's scheme has no [Source].
var ErrNoSource = errors.New("no source for this scheme")

// ErrTooLarge is wrapped when a document is larger than the limit.
var ErrTooLarge = errors.New("larger than the limit")

// scheme returns the URL scheme of location, or "" for a local path.
func scheme(location string) string {
	i := strings.Index(location, "://")
	if i <= 0 {
		return ""
	}
	s := location[:i]
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(s)
}

// FileSource reads and writes local paths and file:// URLs: job specs,
// asset folders, and outputs (HELIOS_OUTPUT_URL=file:///srv/renders).
// Relative paths are relative to the worker's working directory. It is a
// [FolderSource] and a [Sink].
type FileSource struct{}

func (FileSource) path(location string) string {
	if scheme(location) == "file" {
		return location[len("file://"):]
	}
	return location
}

// Open implements [Source].
func (s FileSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	f, _, err := openRegular(os.OpenFile, s.path(location))
	return f, err
}

// HTTPSource reads http:// and https:// URLs. A non-2xx answer is an error
// that names the status.
type HTTPSource struct {
	Client *http.Client // nil means a client with bounded dial and header times
}

var defaultHTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	},
}

// Open implements [Source].
func (s HTTPSource) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	client := s.Client
	if client == nil {
		client = defaultHTTPClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", location, resp.Status)
	}
	return resp.Body, nil
}

// readAll reads at most limit bytes from r, failing with ErrTooLarge past it.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, plusOne(limit)))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

// plusOne is n+1, or n when that would overflow: reading one byte past a
// limit tells whether the document is larger.
func plusOne(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}
