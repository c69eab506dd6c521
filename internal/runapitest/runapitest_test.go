package runapitest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

const name = "projects/my-project/locations/us-central1/services/helios-worker"

// worker is a service as a scaffolded worker is deployed: 20 instances
// of one request each, 2 vCPU and 4 GiB.
func worker() *runapi.GoogleCloudRunV2Service {
	return &runapi.GoogleCloudRunV2Service{
		Name:       name,
		Uri:        "https://helios-worker-abc123-uc.a.run.app",
		Generation: 3,
		Template: &runapi.GoogleCloudRunV2RevisionTemplate{
			Scaling:                       &runapi.GoogleCloudRunV2RevisionScaling{MinInstanceCount: 0, MaxInstanceCount: 20},
			MaxInstanceRequestConcurrency: 1,
			Timeout:                       "3600s",
			Containers: []*runapi.GoogleCloudRunV2Container{{
				Image:     "us-docker.pkg.dev/my-project/helios/worker@sha256:0f",
				Resources: &runapi.GoogleCloudRunV2ResourceRequirements{Limits: map[string]string{"cpu": "2", "memory": "4Gi"}},
			}},
		},
	}
}

// client is the official client pointed at srv, without credentials.
func client(t *testing.T, srv *runapitest.Server) *runapi.Service {
	t.Helper()
	svc, err := runapi.NewService(testdeadline.Context(t), option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestGet: what is put is what the official client gets, in the API's
// JSON shape, and the request is recorded.
func TestGet(t *testing.T) {
	srv := runapitest.Start(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback http URL", srv.URL)
	}
	want := worker()
	srv.PutService(want)
	want.Template.Scaling.MaxInstanceCount = 99 // the server keeps its own copy

	got, err := client(t, srv).Projects.Locations.Services.Get(name).Context(testdeadline.Context(t)).Do()
	if err != nil {
		t.Fatal(err)
	}
	want.Template.Scaling.MaxInstanceCount = 20
	got.ServerResponse = googleapi.ServerResponse{}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("Get =\n%s\nwant\n%s", g, w)
	}
	if held, ok := srv.Service(name); !ok || held.Template.Scaling.MaxInstanceCount != 20 {
		t.Errorf("Service(%q) = %+v, %v", name, held, ok)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests recorded, want 1: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/v2/"+name || r.Status != http.StatusOK || r.Query.Get("alt") != "json" {
		t.Errorf("recorded %s %s?%s -> %d; want GET /v2/%s?alt=json -> 200", r.Method, r.Path, r.Query.Encode(), r.Status, name)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		t.Errorf("the client sent Authorization %q without credentials", a)
	}
}

// TestShape: the body is the API's camelCase JSON, int64 fields as
// strings, as the real API sends it.
func TestShape(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutService(worker())
	status, header, body := do(t, http.MethodGet, srv.URL+"/v2/"+name+"?alt=json&prettyPrint=false")
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET: %d %s %s", status, header.Get("Content-Type"), body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	tmpl, _ := got["template"].(map[string]any)
	scaling, _ := tmpl["scaling"].(map[string]any)
	containers, _ := tmpl["containers"].([]any)
	if got["name"] != name || got["uri"] != "https://helios-worker-abc123-uc.a.run.app" || got["generation"] != "3" ||
		tmpl["maxInstanceRequestConcurrency"] != float64(1) || scaling["maxInstanceCount"] != float64(20) || len(containers) != 1 {
		t.Fatalf("body %s: want the service's fields in the API's camelCase", body)
	}
	c, _ := containers[0].(map[string]any)
	res, _ := c["resources"].(map[string]any)
	limits, _ := res["limits"].(map[string]any)
	if c["image"] != "us-docker.pkg.dev/my-project/helios/worker@sha256:0f" || limits["cpu"] != "2" || limits["memory"] != "4Gi" {
		t.Errorf("container %v: want its image and limits", c)
	}
}

// TestNotFound: an unknown service is a 404 in Google's error shape,
// which the client makes a *googleapi.Error with Code 404, and quota a
// missing worker.
func TestNotFound(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutService(worker())
	other := "projects/my-project/locations/us-central1/services/absent"
	_, err := client(t, srv).Projects.Locations.Services.Get(other).Context(testdeadline.Context(t)).Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != http.StatusNotFound || !strings.Contains(gerr.Message, "'absent' of kind 'SERVICE'") {
		t.Fatalf("Get of an unknown service: %v; want a *googleapi.Error with Code 404", err)
	}
	checkError(t, gerr.Body, http.StatusNotFound, "NOT_FOUND")
	if _, err := quota.CloudRun(testdeadline.Context(t), client(t, srv), other); !errors.Is(err, quota.ErrNoService) {
		t.Errorf("quota.CloudRun of an unknown service: %v, want ErrNoService", err)
	}

	srv.DeleteService(name)
	if _, err := client(t, srv).Projects.Locations.Services.Get(name).Context(testdeadline.Context(t)).Do(); !errors.As(err, &gerr) || gerr.Code != http.StatusNotFound {
		t.Errorf("Get after DeleteService: %v, want a 404", err)
	}
	if _, ok := srv.Service(name); ok {
		t.Error("Service reports a deleted service")
	}
}

// TestDeny: a denied read is a 403, which quota takes as limits unknown.
func TestDeny(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutService(worker())
	srv.Deny(name)
	_, err := client(t, srv).Projects.Locations.Services.Get(name).Context(testdeadline.Context(t)).Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != http.StatusForbidden {
		t.Fatalf("Get of a denied service: %v; want a *googleapi.Error with Code 403", err)
	}
	checkError(t, gerr.Body, http.StatusForbidden, "PERMISSION_DENIED")
	lim, err := quota.CloudRun(testdeadline.Context(t), client(t, srv), name)
	if err != nil || lim.Concurrency != 0 || !strings.Contains(lim.Why, "was denied") {
		t.Errorf("quota.CloudRun of a denied service = %+v, %v; want unknown limits saying so", lim, err)
	}
}

// TestQuota: quota reads the limits and size of what was put.
func TestQuota(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutService(worker())
	lim, err := quota.CloudRun(testdeadline.Context(t), client(t, srv), name)
	if err != nil {
		t.Fatal(err)
	}
	want := quota.Limits{Concurrency: 20, Why: "the service's maximum of 20 instances × 1 request each = 20 in flight",
		Worker: cost.Worker{Platform: cost.CloudRun, CPU: 2, MemoryMB: 4096}}
	if lim != want {
		t.Errorf("quota.CloudRun =\n%+v\nwant\n%+v", lim, want)
	}
}

// TestOtherMethods: the API's operations that the stand-in does not
// model are 501, methods the API has not on that path 405, other paths
// 404: all in Google's error shape, and recorded.
func TestOtherMethods(t *testing.T) {
	srv := runapitest.Start(t)
	srv.PutService(worker())
	base := srv.URL + "/v2/projects/my-project/locations/us-central1/"
	for _, tc := range []struct {
		method, url string
		code        int
		status      string
	}{
		{http.MethodPatch, base + "services/helios-worker", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodDelete, base + "services/helios-worker", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodGet, base + "services", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodPost, base + "services?serviceId=x", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodGet, base + "services/helios-worker:getIamPolicy", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodPost, base + "jobs/render:setIamPolicy", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodGet, base + "jobs", http.StatusNotImplemented, "UNIMPLEMENTED"},
		{http.MethodPut, base + "services/helios-worker", http.StatusMethodNotAllowed, "UNIMPLEMENTED"},
		{http.MethodPost, base + "services/helios-worker", http.StatusMethodNotAllowed, "UNIMPLEMENTED"},
		{http.MethodGet, srv.URL + "/v1/namespaces/my-project/services/helios-worker", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodGet, srv.URL + "/", http.StatusNotFound, "NOT_FOUND"},
	} {
		status, header, body := do(t, tc.method, tc.url)
		if status != tc.code {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.url, status, body, tc.code)
			continue
		}
		checkError(t, body, tc.code, tc.status)
		if tc.code == http.StatusMethodNotAllowed && header.Get("Allow") == "" {
			t.Errorf("%s %s: a 405 without Allow", tc.method, tc.url)
		}
	}
	if got, _ := srv.Service(name); got == nil || got.Template.Scaling.MaxInstanceCount != 20 {
		t.Errorf("the service changed: %+v", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 11 || reqs[0].Method != http.MethodPatch || reqs[0].Status != http.StatusNotImplemented || reqs[10].Status != http.StatusNotFound {
		t.Errorf("recorded %+v; want the 11 requests with their statuses", reqs)
	}
}

// TestPutServiceBadName: a name that is not a service's full name is
// the test's mistake.
func TestPutServiceBadName(t *testing.T) {
	for _, n := range []string{"", "helios-worker", "projects/p/locations/l/services/", "projects/p/locations/l/jobs/j", "projects/p/locations/l/services/s/x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PutService(%q) did not panic", n)
				}
			}()
			runapitest.Start(t).PutService(&runapi.GoogleCloudRunV2Service{Name: n})
		}()
	}
}

// do sends a request without a body and returns the answer.
func do(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testdeadline.Context(t), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// checkError checks that body is Google's error JSON with code and
// status, and a message.
func checkError(t *testing.T, body string, code int, status string) {
	t.Helper()
	var e struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == nil || e.Error.Code != code || e.Error.Status != status || e.Error.Message == "" {
		t.Errorf("error body %s: want {\"error\": {\"code\": %d, \"message\": ..., \"status\": %q}}", body, code, status)
	}
}
