package runapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	runapi "google.golang.org/api/run/v2"
)

// jobPattern is a job's full name.
var jobPattern = regexp.MustCompile(`^projects/[^/:]+/locations/[^/:]+/jobs/[^/:]+$`)

// heldJob is a job put, and what runs its tasks.
type heldJob struct {
	job    runapi.GoogleCloudRunV2Job
	runner TaskRunner
}

// PutJob makes the server hold job under its Name (its full name,
// projects/P/locations/L/jobs/J), replacing what was there, with runner
// starting the tasks of its executions (nil: jobs.run is refused with
// 400 FAILED_PRECONDITION). The server keeps a copy, and keeps the
// job's executions across puts. A Name that is not a job's full name is
// a mistake of the test, and panics.
func (s *Server) PutJob(job *runapi.GoogleCloudRunV2Job, runner TaskRunner) {
	if job == nil || !jobPattern.MatchString(job.Name) {
		panic(fmt.Sprintf("runapitest: PutJob: want a job named projects/P/locations/L/jobs/J, got %+v", job))
	}
	held := &heldJob{runner: runner}
	copyJSON(job, &held.job)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.jobs[job.Name]; old != nil {
		held.job.ExecutionCount, held.job.LatestCreatedExecution = old.job.ExecutionCount, old.job.LatestCreatedExecution
	}
	s.jobs[job.Name] = held
}

// Job returns a copy of the job held under name, as jobs.get answers
// it, and false when there is none.
func (s *Server) Job(name string) (*runapi.GoogleCloudRunV2Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held, ok := s.jobs[name]
	if !ok {
		return nil, false
	}
	var job runapi.GoogleCloudRunV2Job
	copyJSON(&held.job, &job)
	return &job, true
}

// routeJobs adds the jobs, executions, tasks and operations to mux.
func (s *Server) routeJobs(mux *http.ServeMux) {
	const base = "/v2/projects/{project}/locations/{location}/"
	mux.HandleFunc(base+"jobs/{job}", s.jobHandler)
	mux.HandleFunc(base+"jobs/{job}/executions", s.executionList)
	mux.HandleFunc(base+"jobs/{job}/executions/{execution}", s.executionHandler)
	mux.HandleFunc(base+"jobs/{job}/executions/{execution}/tasks", s.taskList)
	mux.HandleFunc(base+"jobs/{job}/executions/{execution}/tasks/{task}", s.taskHandler)
	mux.HandleFunc(base+"operations/{operation}", s.operationHandler)
}

// location is the request's projects/P/locations/L.
func location(r *http.Request) string {
	return "projects/" + r.PathValue("project") + "/locations/" + r.PathValue("location")
}

// notFound answers 404 for the resource id of kind in r's location, as
// the API words it.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, kind, id string) {
	s.fail(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Resource '%s' of kind '%s' in region '%s' in project '%s' does not exist.",
		id, kind, r.PathValue("location"), r.PathValue("project")))
}

// denied answers 403 when name is denied, and reports whether it did.
// Call it with s.mu held.
func (s *Server) deniedLocked(w http.ResponseWriter, name, permission string) bool {
	if !s.denied[name] {
		return false
	}
	s.fail(w, http.StatusForbidden, "PERMISSION_DENIED",
		fmt.Sprintf("Permission '%s' denied on resource '%s' (or resource may not exist).", permission, name))
	return true
}

// notAllowed answers 405 for a method the API has not on this path.
func (s *Server) notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	s.fail(w, http.StatusMethodNotAllowed, "UNIMPLEMENTED", fmt.Sprintf("Method %s is not allowed on %s.", r.Method, r.URL.Path))
}

// answer writes v, as its type marshals it.
func (s *Server) answer(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(data)
}

// jobHandler serves a job: GET (jobs.get), POST :run (jobs.run).
func (s *Server) jobHandler(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := strings.Cut(r.PathValue("job"), ":")
	name := location(r) + "/jobs/" + id
	switch {
	case verb == "run" && r.Method == http.MethodPost:
		s.runJob(w, r, name, id)
		return
	case verb == "run":
		s.notAllowed(w, r, "POST")
		return
	case verb != "", r.Method == http.MethodPatch, r.Method == http.MethodDelete:
		s.unimplemented(w, r)
		return
	case r.Method != http.MethodGet:
		s.notAllowed(w, r, "GET, PATCH, DELETE")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, name, "run.jobs.get") {
		return
	}
	held, ok := s.jobs[name]
	if !ok {
		s.notFound(w, r, "JOB", id)
		return
	}
	s.answer(w, held.job)
}

// runJob is jobs.run: an execution of the job, with the request's
// overrides, answered as its operation.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request, name, id string) {
	var req runapi.GoogleCloudRunV2RunJobRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, name, "run.jobs.run") {
		return
	}
	held, ok := s.jobs[name]
	switch {
	case !ok:
		s.notFound(w, r, "JOB", id)
		return
	case s.closed:
		s.fail(w, http.StatusServiceUnavailable, "UNAVAILABLE", "runapitest: the server is closing")
		return
	case held.runner == nil:
		s.fail(w, http.StatusBadRequest, "FAILED_PRECONDITION", "runapitest: job "+name+" was put without a TaskRunner, so it cannot run")
		return
	}
	x, err := s.startLocked(held, &req)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	s.answer(w, s.operationLocked(x))
}

// executionList is executions.list: the job's executions, newest first.
func (s *Server) executionList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.notAllowed(w, r, "GET")
		return
	}
	job := location(r) + "/jobs/" + r.PathValue("job")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, job, "run.executions.list") {
		return
	}
	if _, ok := s.jobs[job]; !ok {
		s.notFound(w, r, "JOB", r.PathValue("job"))
		return
	}
	var all []*runapi.GoogleCloudRunV2Execution
	for _, x := range s.executions {
		if strings.HasPrefix(x.res.Name, job+"/executions/") {
			all = append(all, &x.res)
		}
	}
	slices.SortFunc(all, func(a, b *runapi.GoogleCloudRunV2Execution) int { return strings.Compare(b.CreateTime, a.CreateTime) })
	page, next, ok := s.page(w, r, len(all))
	if ok {
		s.answer(w, runapi.GoogleCloudRunV2ListExecutionsResponse{Executions: all[page[0]:page[1]], NextPageToken: next})
	}
}

// page is the part [from, to) of n items that r's pageSize and
// pageToken ask for, and the next page's token.
func (s *Server) page(w http.ResponseWriter, r *http.Request, n int) ([2]int, string, bool) {
	size, from := 100, 0
	var err error
	if v := r.URL.Query().Get("pageSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 0 {
			s.fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "pageSize: want a whole number")
			return [2]int{}, "", false
		}
		if size == 0 {
			size = 100
		}
	}
	if v := r.URL.Query().Get("pageToken"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 || from > n {
			s.fail(w, http.StatusBadRequest, "INVALID_ARGUMENT", "pageToken: not a token this server gave")
			return [2]int{}, "", false
		}
	}
	to, next := min(from+size, n), ""
	if to < n {
		next = strconv.Itoa(to)
	}
	return [2]int{from, to}, next, true
}

// executionHandler serves an execution: GET (executions.get), POST
// :cancel (executions.cancel).
func (s *Server) executionHandler(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := strings.Cut(r.PathValue("execution"), ":")
	name := location(r) + "/jobs/" + r.PathValue("job") + "/executions/" + id
	switch {
	case verb == "cancel" && r.Method == http.MethodPost:
	case verb == "cancel":
		s.notAllowed(w, r, "POST")
		return
	case verb != "", r.Method == http.MethodDelete:
		s.unimplemented(w, r)
		return
	case r.Method != http.MethodGet:
		s.notAllowed(w, r, "GET, DELETE")
		return
	}
	perm := map[string]string{"": "run.executions.get", "cancel": "run.executions.cancel"}[verb]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, name, perm) {
		return
	}
	x, ok := s.executions[name]
	if !ok {
		s.notFound(w, r, "EXECUTION", id)
		return
	}
	if verb == "cancel" {
		x.cancel()
		s.answer(w, s.operationLocked(x))
		return
	}
	s.answer(w, x.res)
}

// taskList is tasks.list: the execution's tasks, by index.
func (s *Server) taskList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.notAllowed(w, r, "GET")
		return
	}
	name := location(r) + "/jobs/" + r.PathValue("job") + "/executions/" + r.PathValue("execution")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, name, "run.tasks.list") {
		return
	}
	x, ok := s.executions[name]
	if !ok {
		s.notFound(w, r, "EXECUTION", r.PathValue("execution"))
		return
	}
	page, next, ok := s.page(w, r, len(x.tasks))
	if ok {
		s.answer(w, runapi.GoogleCloudRunV2ListTasksResponse{Tasks: x.tasks[page[0]:page[1]], NextPageToken: next})
	}
}

// taskHandler is tasks.get.
func (s *Server) taskHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.notAllowed(w, r, "GET")
		return
	}
	execution := location(r) + "/jobs/" + r.PathValue("job") + "/executions/" + r.PathValue("execution")
	name := execution + "/tasks/" + r.PathValue("task")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deniedLocked(w, execution, "run.tasks.get") {
		return
	}
	if x, ok := s.executions[execution]; ok {
		for _, t := range x.tasks {
			if t.Name == name {
				s.answer(w, t)
				return
			}
		}
	}
	s.notFound(w, r, "TASK", r.PathValue("task"))
}

// operationHandler is operations.get: the operation of a run, done
// when its execution is.
func (s *Server) operationHandler(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := strings.Cut(r.PathValue("operation"), ":")
	switch {
	case verb != "", r.Method == http.MethodDelete:
		s.unimplemented(w, r)
		return
	case r.Method != http.MethodGet:
		s.notAllowed(w, r, "GET, DELETE")
		return
	}
	name := location(r) + "/operations/" + id
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.executions[s.operations[name]]
	if !ok {
		s.fail(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Operation '%s' not found.", name))
		return
	}
	s.answer(w, s.operationLocked(x))
}

// operationLocked is the operation of x's run: its metadata the
// execution, done with it, answered with it, or failed as it did.
func (s *Server) operationLocked(x *execution) runapi.GoogleLongrunningOperation {
	op := runapi.GoogleLongrunningOperation{Name: x.op, Metadata: typed(x.res)}
	if x.res.CompletionTime != "" {
		op.Done = true
		if x.failure != "" {
			op.Error = &runapi.GoogleRpcStatus{Code: 2, Message: x.failure}
		} else {
			op.Response = typed(x.res)
		}
	}
	return op
}

// typed is the execution's JSON with the "@type" of an Any, as the API
// puts it in an operation.
func typed(x runapi.GoogleCloudRunV2Execution) []byte {
	data, _ := json.Marshal(x)
	var doc map[string]json.RawMessage
	json.Unmarshal(data, &doc)
	doc["@type"], _ = json.Marshal("type.googleapis.com/google.cloud.run.v2.Execution")
	data, _ = json.Marshal(doc)
	return data
}

// copyJSON copies from into to through the API's JSON.
func copyJSON(from, to any) {
	data, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(data, to)
	}
	if err != nil {
		panic(fmt.Sprintf("runapitest: copying %T: %v", from, err))
	}
}
