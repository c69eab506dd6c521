package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
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

// FileSource reads and writes local paths and file:// URLs: job specs,
// asset folders, and outputs (HELIOS_OUTPUT_URL=file:///srv/renders).
// Relative paths are relative to the worker's working directory. It is a
// [FolderSource] and a [Sink].
type FileSource struct{}

func (FileSource) path(location string) string {
	if Scheme(location) == "file" {
		return location[len("file://"):]
	}
	return location
}

// Open implements [Source].
func (s FileSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	f, _, err := fsutil.OpenRegular(os.OpenFile, s.path(location))
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
