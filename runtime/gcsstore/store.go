package gcsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// EmulatorHostEnv names the variable that points the store at a GCS
// emulator, as "host:port" or "http://host:port", without authentication.
const EmulatorHostEnv = "STORAGE_EMULATOR_HOST"

// DefaultChunkSize is the size of the chunks of a resumable upload, and so
// of the one buffer an upload holds; see [WithChunkSize].
const DefaultChunkSize = 8 << 20

// Store reads and writes gs:// locations through the Cloud Storage JSON
// API. It is a [store.FolderSource] and a [store.Sink]. Its methods are
// safe for concurrent use.
type Store struct {
	opts          []option.ClientOption
	chunkSize     int
	retryDeadline time.Duration
	pageSize      int64 // objects per List page; 0 is the server's default

	mu  sync.Mutex
	svc *storage.Service // built on first use
}

var (
	_ store.FolderSource = (*Store)(nil)
	_ store.Sink         = (*Store)(nil)
)

// An Option configures a [Store].
type Option func(*Store)

// WithClientOptions adds options for the underlying client, after the
// store's own (so they win): option.WithAuthCredentialsFile,
// option.WithEndpoint, option.WithUserAgent... option.WithHTTPClient
// replaces the authenticated transport: the client must then bring its
// own credentials.
func WithClientOptions(opts ...option.ClientOption) Option {
	return func(s *Store) { s.opts = append(s.opts, opts...) }
}

// WithChunkSize sets the chunk size of resumable uploads, rounded up to a
// multiple of 256 KiB. A file smaller than it goes up in one request,
// streamed from the file; a larger one in chunks of this size, each held
// in memory until the server has it, which is what an upload costs in
// memory. The default is [DefaultChunkSize].
func WithChunkSize(n int) Option {
	const unit = googleapi.MinUploadChunkSize
	return func(s *Store) { s.chunkSize = max(1, (n+unit-1)/unit) * unit }
}

// WithRetryDeadline bounds how long one chunk of a resumable upload is
// retried after a transient failure (a 5xx, a reset connection); the
// client library's default is 32 s. The caller's context bounds the whole
// call in any case.
func WithRetryDeadline(d time.Duration) Option {
	return func(s *Store) { s.retryDeadline = d }
}

// New returns a store. It does nothing else: the client, the credentials
// and the emulator setting are looked up on first use, and looked up again
// on the next use if that failed.
func New(opts ...Option) *Store {
	s := &Store{chunkSize: DefaultChunkSize}
	for _, o := range opts {
		o(s)
	}
	return s
}

// service returns the client, building it on first use. A failure is not
// kept: the next call tries again.
func (s *Store) service(ctx context.Context) (*storage.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.svc != nil {
		return s.svc, nil
	}
	opts := append(emulatorOptions(os.Getenv(EmulatorHostEnv)),
		option.WithScopes(storage.DevstorageReadWriteScope))
	opts = append(opts, s.opts...)
	// The client may keep the context for its credentials: it must not
	// die with the call that happened to come first.
	svc, err := storage.NewService(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return nil, fmt.Errorf("google cloud storage client: %w", err)
	}
	s.svc = svc
	return svc, nil
}

// emulatorOptions points the client at the emulator host, when one is set.
// The generated client derives upload URLs from the base path by replacing
// its path with "/upload/storage/v1/...", so uploads reach
// http://host:port/upload/storage/v1/ as they should.
func emulatorOptions(host string) []option.ClientOption {
	host = strings.TrimSpace(host)
	if host == "" {
		return nil
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	return []option.ClientOption{
		option.WithEndpoint(strings.TrimRight(host, "/") + "/storage/v1/"),
		option.WithoutAuthentication(),
	}
}

// ref names an object, or a folder, of a bucket.
type ref struct {
	location    string // as given: "gs://bucket/key"
	bucket, key string
}

// resolve splits location into its bucket and key and returns the client.
func (s *Store) resolve(ctx context.Context, location string) (*storage.Service, ref, error) {
	bucket, key, err := store.SplitBucket(location)
	if err != nil {
		return nil, ref{}, err
	}
	svc, err := s.service(ctx)
	if err != nil {
		return nil, ref{}, fmt.Errorf("%s: %w", location, err)
	}
	return svc, ref{location, bucket, key}, nil
}

// ErrChecksum is wrapped when the bytes received or stored do not match
// the CRC32C they should have.
var ErrChecksum = errors.New("crc32c mismatch")

// apiError is an error of the JSON API, told as "location: what: message",
// that wraps the worker's sentinel for its status and the
// *googleapi.Error.
type apiError struct {
	msg  string
	errs []error
}

func (e *apiError) Error() string   { return e.msg }
func (e *apiError) Unwrap() []error { return e.errs }

// locate names location in err and, for an answer of the JSON API, wraps
// the sentinel that its status means: 404 [store.ErrNotFound], 401 and
// 403 [store.ErrAccessDenied], 400 about the CRC32C [ErrChecksum].
func locate(location string, err error) error {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return fmt.Errorf("%s: %w", location, err)
	}
	text := apiMessage(gerr)
	var kind error
	switch gerr.Code {
	case http.StatusNotFound:
		kind = store.ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		kind = store.ErrAccessDenied
	case http.StatusPreconditionFailed: // ifGenerationMatch: another generation now
		kind = store.ErrChanged
	case http.StatusBadRequest:
		if strings.Contains(strings.ToLower(text), "crc32c") {
			kind = ErrChecksum // an upload refused: "Provided CRC32C ... doesn't match ..."
		}
	}
	e := &apiError{errs: []error{err}}
	switch {
	case kind == nil && text == "":
		e.msg = fmt.Sprintf("%s: HTTP %d %s", location, gerr.Code, http.StatusText(gerr.Code))
	case kind == nil:
		e.msg = fmt.Sprintf("%s: HTTP %d: %s", location, gerr.Code, text)
	case text == "" || strings.EqualFold(text, kind.Error()) || text == http.StatusText(gerr.Code):
		e.msg, e.errs = location+": "+kind.Error(), append(e.errs, kind)
	default:
		e.msg, e.errs = location+": "+kind.Error()+": "+text, append(e.errs, kind)
	}
	return e
}

// apiMessage is the server's explanation in gerr, without a final period:
// its message, or for a media request, whose error is not parsed, the
// body's JSON message or short text.
func apiMessage(gerr *googleapi.Error) string {
	text := gerr.Message
	if text == "" {
		var reply struct {
			Error struct{ Message string }
		}
		if json.Unmarshal([]byte(gerr.Body), &reply) == nil {
			text = reply.Error.Message
		} else if len(gerr.Body) <= 200 && !strings.ContainsAny(gerr.Body, "<{") {
			text = gerr.Body // "No such object: b/o"
		}
	}
	return strings.TrimSuffix(strings.Join(strings.Fields(text), " "), ".")
}
