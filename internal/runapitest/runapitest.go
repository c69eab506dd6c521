package runapitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	runapi "google.golang.org/api/run/v2"
)

// Server is a running stand-in for the Cloud Run Admin API v2. Its
// methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT, without a
	// trailing slash: the client's endpoint is URL+"/".
	URL string

	http *httptest.Server

	mu       sync.Mutex
	services map[string][]byte // by full name: each as the client library's type marshals it
	denied   map[string]bool   // full names whose reads are refused
	requests []Request
	// jobs, executions and operations are the jobs put, the executions
	// their runs made and those runs' operations, by full name.
	jobs       map[string]*heldJob
	executions map[string]*execution
	operations map[string]string // operation name to execution name
	closed     bool

	// ctx ends on Close, which stops every execution's tasks; running
	// counts the goroutines that run them, which Close waits for.
	ctx     context.Context
	stop    context.CancelFunc
	running sync.WaitGroup
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // the URL's path, /v2/projects/P/locations/L/services/S
	Query  url.Values
	Header http.Header
	Status int // what the server answered
}

// Start starts a stand-in on a free 127.0.0.1 port; it stops when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	return s
}

// New is Start outside a test; Close stops the server.
func New() *Server {
	s := &Server{services: map[string][]byte{}, denied: map[string]bool{}, jobs: map[string]*heldJob{},
		executions: map[string]*execution{}, operations: map[string]string{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/projects/{project}/locations/{location}/services/{service}", s.service)
	s.routeJobs(mux)
	mux.HandleFunc("/v2/projects/{project}/locations/{location}/{rest...}", s.unimplemented)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
	})
	s.http = httptest.NewServer(s.record(mux))
	s.URL = s.http.URL
	return s
}

// Close stops every execution's tasks (SIGTERM to each task's process
// group, SIGKILL after a grace period), waits for their processes to
// end, then stops the server and closes its connections.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.running.Wait()
	s.http.Close()
}

// servicePattern is a service's full name.
var servicePattern = regexp.MustCompile(`^projects/[^/:]+/locations/[^/:]+/services/[^/:]+$`)

// PutService makes the server hold svc under its Name (its full name,
// projects/P/locations/L/services/S), replacing what was there: a GET of
// that name answers svc as the client library's type marshals it. The
// server keeps a copy: changing svc afterwards changes nothing. A Name
// that is not a service's full name is a mistake of the test, and
// panics.
func (s *Server) PutService(svc *runapi.GoogleCloudRunV2Service) {
	if svc == nil || !servicePattern.MatchString(svc.Name) {
		panic(fmt.Sprintf("runapitest: PutService: want a service named projects/P/locations/L/services/S, got %+v", svc))
	}
	data, err := json.Marshal(svc)
	if err != nil {
		panic(fmt.Sprintf("runapitest: PutService: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[svc.Name] = data
}

// Service returns a copy of the service held under name, and false when
// there is none.
func (s *Server) Service(name string) (*runapi.GoogleCloudRunV2Service, bool) {
	s.mu.Lock()
	data, ok := s.services[name]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	var svc runapi.GoogleCloudRunV2Service
	if err := json.Unmarshal(data, &svc); err != nil {
		panic(fmt.Sprintf("runapitest: %s: %v", name, err)) // what PutService marshalled
	}
	return &svc, true
}

// DeleteService removes the service held under name, if any.
func (s *Server) DeleteService(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.services, name)
}

// Deny makes every call on the resource called name (held or not) fail
// with 403 PERMISSION_DENIED, as for a caller without the permission:
// run.services.get on a service; run.jobs.get and run.jobs.run on a job;
// run.executions.get, run.executions.cancel and run.tasks.list on an
// execution.
func (s *Server) Deny(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[name] = true
}

// Requests are the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// service serves /v2/projects/P/locations/L/services/S, and the custom
// methods on a service (S:verb).
func (s *Server) service(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("service")
	if strings.Contains(id, ":") {
		s.unimplemented(w, r)
		return
	}
	name := "projects/" + r.PathValue("project") + "/locations/" + r.PathValue("location") + "/services/" + id
	switch r.Method {
	case http.MethodGet:
	case http.MethodPatch, http.MethodDelete:
		s.unimplemented(w, r)
		return
	default:
		w.Header().Set("Allow", "GET, PATCH, DELETE")
		s.fail(w, http.StatusMethodNotAllowed, "UNIMPLEMENTED", fmt.Sprintf("Method %s is not allowed on %s.", r.Method, name))
		return
	}
	s.mu.Lock()
	data, ok := s.services[name]
	denied := s.denied[name]
	s.mu.Unlock()
	switch {
	case denied:
		s.fail(w, http.StatusForbidden, "PERMISSION_DENIED",
			fmt.Sprintf("Permission 'run.services.get' denied on resource '%s' (or resource may not exist).", name))
	case !ok:
		s.fail(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Resource '%s' of kind 'SERVICE' in region '%s' in project '%s' does not exist.",
			id, r.PathValue("location"), r.PathValue("project")))
	default:
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(data)
	}
}

// unimplemented answers an operation of the API that the stand-in does
// not model (yet).
func (s *Server) unimplemented(w http.ResponseWriter, r *http.Request) {
	s.fail(w, http.StatusNotImplemented, "UNIMPLEMENTED",
		fmt.Sprintf("runapitest: %s %s is an operation of the Cloud Run Admin API that this stand-in does not implement.", r.Method, r.URL.Path))
}

// apiError is Google's JSON error body.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// fail writes an error answer as Google's APIs do.
func (s *Server) fail(w http.ResponseWriter, code int, status, message string) {
	var body apiError
	body.Error.Code, body.Error.Message, body.Error.Status = code, message, status
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// record wraps h: every request is recorded with the status it got.
func (s *Server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			Header: r.Header.Clone(), Status: sw.status})
	})
}

// statusWriter keeps the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
