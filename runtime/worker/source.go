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
	"path/filepath"
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

// A FolderSource is a Source that can also copy a folder (a prefix) of
// files into a local directory; assetsUrl needs one.
type FolderSource interface {
	Source
	// CopyFolder copies every file below location into dir, keeping
	// relative paths, and reads at most limit bytes in all.
	CopyFolder(ctx context.Context, location, dir string, limit int64) error
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

// FileSource reads local paths and file:// URLs. Relative paths are
// relative to the worker's working directory.
type FileSource struct{}

func (FileSource) path(location string) string {
	if scheme(location) == "file" {
		return location[len("file://"):]
	}
	return location
}

// Open implements [Source].
func (s FileSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	return os.Open(s.path(location))
}

// CopyFolder implements [FolderSource].
func (s FileSource) CopyFolder(ctx context.Context, location, dir string, limit int64) error {
	root, err := filepath.EvalSymlinks(s.path(location)) // WalkDir does not follow a linked root
	if err != nil {
		return err
	}
	var total int64
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // sockets, devices and links are not assets
		}
		n, err := copyFile(path, dst, limit-total)
		total += n
		return err
	})
}

func copyFile(src, dst string, limit int64) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(in, plusOne(limit)))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = fmt.Errorf("assets: %w", ErrTooLarge)
	}
	return n, err
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
