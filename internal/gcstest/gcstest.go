// Package gcstest runs fake-gcs-server (its fakestorage package) in
// process, over plain HTTP on a free 127.0.0.1 port, for tests of code that
// speaks the Google Cloud Storage JSON API: the gcsstore package in
// process, and the worker binaries as separate processes pointed at it
// with STORAGE_EMULATOR_HOST.
//
//	srv := gcstest.Start(t) // or New and Close, outside a test
//	srv.PutObject("renders", "job-42.json", spec)
//	t.Setenv("STORAGE_EMULATOR_HOST", srv.Host()) // or cmd.Env = append(cmd.Env, srv.Env())
//
// The fake enforces no IAM; [Server.Deny] makes it answer one bucket with
// the 403 that GCS gives a caller without the permission.
package gcstest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// EmulatorHostEnv is the variable that points GCS clients at an emulator.
const EmulatorHostEnv = "STORAGE_EMULATOR_HOST"

// Server is a running fake GCS. Its methods are safe for concurrent use.
type Server struct {
	fake     *fakestorage.Server
	http     *httptest.Server
	requests atomic.Int64

	mu     sync.Mutex
	denied map[string]bool
}

// Start starts a fake GCS that holds objects (and their buckets); it stops
// when the test ends. An object given here keeps the Crc32c and Md5Hash it
// is given, which makes a corrupt object; those left empty are computed.
func Start(t testing.TB, objects ...fakestorage.Object) *Server {
	t.Helper()
	s, err := New(objects...)
	if err != nil {
		t.Fatalf("gcstest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New is Start for a TestMain or an example; Close stops the server.
func New(objects ...fakestorage.Object) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		InitialObjects: objects,
		Scheme:         "http",
		NoListener:     true, // served below, behind Deny
		ExternalURL:    "http://" + ln.Addr().String(),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{fake: fake, denied: map[string]bool{}}
	s.http = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.http.Listener.Close()
	s.http.Listener = ln
	s.http.Start()
	return s, nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	s.http.Close()
	s.fake.Stop()
}

// Host is the server's host:port, the value for STORAGE_EMULATOR_HOST.
func (s *Server) Host() string { return s.http.Listener.Addr().String() }

// URL is "http://" and Host.
func (s *Server) URL() string { return s.http.URL }

// Env is "STORAGE_EMULATOR_HOST=" and Host, for exec.Cmd.Env.
func (s *Server) Env() string { return EmulatorHostEnv + "=" + s.Host() }

// Fake is the fake-gcs-server itself, for what the helpers here do not
// cover (objects with chosen attributes, listing).
func (s *Server) Fake() *fakestorage.Server { return s.fake }

// Requests is the number of HTTP requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// CreateBucket creates an empty bucket.
func (s *Server) CreateBucket(name string) {
	s.fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
}

// PutObject stores data as bucket/name, creating the bucket if need be.
// The server computes its crc32c and md5.
func (s *Server) PutObject(bucket, name string, data []byte) {
	s.fake.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name},
		Content:     data,
	})
}

// Object returns bucket/name with its content and attributes (Size,
// Crc32c, ContentType), and false when there is no such object.
func (s *Server) Object(bucket, name string) (fakestorage.Object, bool) {
	obj, err := s.fake.GetObject(bucket, name)
	return obj, err == nil
}

// Deny makes every JSON API request on bucket fail with 403 Forbidden in
// the error format of GCS, as for a service account without the role.
func (s *Server) Deny(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[bucket] = true
}

func (s *Server) isDenied(bucket string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied[bucket]
}

// bucketPath matches the JSON API's paths for media, uploads and
// metadata, and captures the bucket.
var bucketPath = regexp.MustCompile(`^/(?:upload/|download/)?storage/v1/b/([^/?]+)(/o(/.)?)?`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if m := bucketPath.FindStringSubmatch(r.URL.Path); m != nil && s.isDenied(m[1]) {
		forbid(w, permission(r.Method, m[2] != "", m[3] != ""))
		return
	}
	s.fake.HTTPHandler().ServeHTTP(w, r)
}

// permission names the IAM permission a request needs.
func permission(method string, objects, oneObject bool) string {
	switch {
	case !objects:
		return "storage.buckets.get"
	case method == http.MethodPost || method == http.MethodPut:
		return "storage.objects.create"
	case method == http.MethodDelete:
		return "storage.objects.delete"
	case oneObject:
		return "storage.objects.get"
	default:
		return "storage.objects.list"
	}
}

// forbid writes a 403 the way GCS does.
func forbid(w http.ResponseWriter, perm string) {
	what := "bucket"
	if strings.HasPrefix(perm, "storage.objects.") {
		what = "object"
	}
	msg := "helios-worker@example.iam.gserviceaccount.com does not have " + perm +
		" access to the Google Cloud Storage " + what + ". Permission '" + perm +
		"' denied on resource (or it may not exist)."
	type item struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []item `json:"errors"`
		} `json:"error"`
	}
	body.Error.Code = http.StatusForbidden
	body.Error.Message = msg
	body.Error.Errors = []item{{Message: msg, Domain: "global", Reason: "forbidden"}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	json.NewEncoder(w).Encode(body)
}
