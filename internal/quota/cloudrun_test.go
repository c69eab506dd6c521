package quota_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"
	run "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

func TestServiceName(t *testing.T) {
	if got, want := quota.ServiceName("my-project", "us-central1", "helios-worker"), "projects/my-project/locations/us-central1/services/helios-worker"; got != want {
		t.Errorf("ServiceName = %q, want %q", got, want)
	}
}

// runServer is a loopback Cloud Run Admin API v2 that answers every
// request with status and body, and records the paths it was asked for.
type runServer struct {
	status int
	body   string

	mu    sync.Mutex
	paths []string
}

func (s *runServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(s.status)
	io.WriteString(w, s.body)
}

// service is a Service as the API returns it, with template's JSON.
func service(name, template string, extra ...string) string {
	return `{"name": "` + name + `", "uid": "4a5e3f0c", "generation": "3",` + strings.Join(extra, "") +
		` "template": ` + template + `, "uri": "https://helios-worker-abc123-uc.a.run.app"}`
}

// googleError is an error answer of a Google API.
func googleError(code int, status, message string) string {
	return `{"error": {"code": ` + strconv.Itoa(code) + `, "message": "` + message + `", "status": "` + status + `"}}`
}

func TestCloudRun(t *testing.T) {
	const name = "projects/my-project/locations/us-central1/services/helios-worker"
	tests := []struct {
		name   string
		status int
		body   string
		want   quota.Limits
		err    error  // a sentinel the error wraps; nil for none
		errMsg string // what the error says
	}{
		{
			name:   "max 20 × concurrency 1",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 20}, "maxInstanceRequestConcurrency": 1, "timeout": "3600s",
				"containers": [{"image": "us-docker.pkg.dev/my-project/helios/worker@sha256:0f", "resources": {"limits": {"cpu": "2", "memory": "4Gi"}, "cpuIdle": true}}]}`),
			want: quota.Limits{Concurrency: 20, Why: "the service's maximum of 20 instances × 1 request each = 20 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 2, MemoryMB: 4096}},
		},
		{
			name:   "no scaling: Cloud Run's 100 instances",
			status: http.StatusOK,
			body: service(name, `{"maxInstanceRequestConcurrency": 1,
				"containers": [{"image": "worker", "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}}}]}`),
			want: quota.Limits{Concurrency: 100, Why: "Cloud Run's default maximum of 100 instances × 1 request each = 100 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 1, MemoryMB: 512}},
		},
		{
			name:   "concurrency 4 × 10 instances, decimal memory",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 10}, "maxInstanceRequestConcurrency": 4,
				"containers": [{"image": "worker", "resources": {"limits": {"cpu": "4", "memory": "4G"}}}]}`),
			want: quota.Limits{Concurrency: 40, Why: "the service's maximum of 10 instances × 4 requests each = 40 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 4, MemoryMB: 3815}},
		},
		{
			name:   "service-level maximum below the template's",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 50}, "maxInstanceRequestConcurrency": 1,
				"containers": [{"image": "worker", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}]}`,
				` "scaling": {"maxInstanceCount": 30},`),
			want: quota.Limits{Concurrency: 30, Why: "the service's maximum of 30 instances × 1 request each = 30 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 1, MemoryMB: 2048}},
		},
		{
			name:   "scaled by hand",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 50}, "maxInstanceRequestConcurrency": 1,
				"containers": [{"image": "worker", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}]}`,
				` "scaling": {"scalingMode": "MANUAL", "manualInstanceCount": 3},`),
			want: quota.Limits{Concurrency: 3, Why: "the service's 3 instances (scaled by hand) × 1 request each = 3 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 1, MemoryMB: 2048}},
		},
		{
			name:   "scaled by hand to none",
			status: http.StatusOK,
			body: service(name, `{"containers": [{"image": "worker", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}]}`,
				` "scaling": {"scalingMode": "MANUAL"},`),
			err:    quota.ErrThrottled,
			errMsg: "reading the limits of Cloud Run service " + name + ": worker throttled: it is scaled by hand to no instance",
		},
		{
			name:   "no limits or concurrency: Cloud Run's defaults",
			status: http.StatusOK,
			body:   service(name, `{"containers": [{"image": "worker"}]}`),
			want: quota.Limits{Concurrency: 8000, Why: "Cloud Run's default maximum of 100 instances × Cloud Run's default of 80 requests each = 8000 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 1, MemoryMB: 512}},
		},
		{
			name:   "a fraction of a vCPU takes one request by default",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 5},
				"containers": [{"image": "worker", "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}}}]}`),
			want: quota.Limits{Concurrency: 5, Why: "the service's maximum of 5 instances × Cloud Run's default of 1 request each below 1 vCPU = 5 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 0.5, MemoryMB: 512}},
		},
		{
			name:   "a sidecar adds its resources",
			status: http.StatusOK,
			body: service(name, `{"scaling": {"maxInstanceCount": 20}, "maxInstanceRequestConcurrency": 1, "containers": [
				{"name": "worker", "image": "worker", "resources": {"limits": {"cpu": "2", "memory": "4Gi"}}},
				{"name": "proxy", "image": "envoy", "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}}]}`),
			want: quota.Limits{Concurrency: 20, Why: "the service's maximum of 20 instances × 1 request each = 20 in flight",
				Worker: cost.Worker{Platform: cost.CloudRun, CPU: 3, MemoryMB: 4608}},
		},
		{
			name:   "a bad memory limit",
			status: http.StatusOK,
			body:   service(name, `{"containers": [{"name": "worker", "image": "worker", "resources": {"limits": {"cpu": "2", "memory": "4GB"}}}]}`),
			errMsg: `reading Cloud Run service ` + name + `: container 0 (worker): parsing memory limit: parsing quantity "4GB": unknown unit "GB"`,
		},
		{
			name:   "a bad CPU limit",
			status: http.StatusOK,
			body:   service(name, `{"containers": [{"image": "worker", "resources": {"limits": {"cpu": "two", "memory": "4Gi"}}}]}`),
			errMsg: `reading Cloud Run service ` + name + `: container 0 (): parsing CPU limit: parsing quantity "two"`,
		},
		{
			name:   "not found",
			status: http.StatusNotFound,
			body:   googleError(http.StatusNotFound, "NOT_FOUND", "Resource '"+"helios-worker"+"' of kind 'SERVICE' in region 'us-central1' in project 'my-project' does not exist."),
			err:    quota.ErrNoService,
			errMsg: "reading Cloud Run service " + name + ": no such worker: googleapi: Error 404",
		},
		{
			name:   "denied",
			status: http.StatusForbidden,
			body:   googleError(http.StatusForbidden, "PERMISSION_DENIED", "Permission 'run.services.get' denied on resource '"+name+"' (or resource may not exist)."),
			want:   quota.Limits{Why: "concurrency unknown; run.services.get on " + name + " was denied, so its scaling, CPU and memory are unknown"},
		},
		{
			name:   "a server error is an error",
			status: http.StatusInternalServerError,
			body:   googleError(http.StatusInternalServerError, "INTERNAL", "internal error"),
			errMsg: "reading Cloud Run service " + name + ": googleapi: Error 500: internal error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testdeadline.Context(t)
			api := &runServer{status: tt.status, body: tt.body}
			srv := httptest.NewServer(api)
			defer srv.Close()
			svc, err := run.NewService(ctx, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			// Every request the client sends (one, unless it retries)
			// must be the Get of the service.
			got, err := quota.CloudRun(ctx, svc, name)
			api.mu.Lock()
			paths := api.paths
			api.mu.Unlock()
			if len(paths) == 0 {
				t.Fatal("the client sent no request")
			}
			for _, p := range paths {
				if want := "GET /v2/" + name; p != want {
					t.Errorf("request %q, want %q", p, want)
				}
			}
			if tt.errMsg != "" || tt.err != nil {
				if err == nil || !strings.Contains(err.Error(), tt.errMsg) || (tt.err != nil && !errors.Is(err, tt.err)) {
					t.Fatalf("CloudRun = %+v, %v; want an error wrapping %v with %q", got, err, tt.err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("CloudRun =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// A job's task size is its containers' limits added up, Cloud Run's
// defaults where a container sets none, priced as a job's; a job without
// a container, or with a limit that does not parse, has none.
func TestJobWorker(t *testing.T) {
	job := func(limits ...map[string]string) *run.GoogleCloudRunV2Job {
		var cs []*run.GoogleCloudRunV2Container
		for _, l := range limits {
			c := &run.GoogleCloudRunV2Container{Name: "c"}
			if l != nil {
				c.Resources = &run.GoogleCloudRunV2ResourceRequirements{Limits: l}
			}
			cs = append(cs, c)
		}
		return &run.GoogleCloudRunV2Job{Name: "projects/p/locations/l/jobs/j",
			Template: &run.GoogleCloudRunV2ExecutionTemplate{Template: &run.GoogleCloudRunV2TaskTemplate{Containers: cs}}}
	}
	for _, tc := range []struct {
		name string
		job  *run.GoogleCloudRunV2Job
		want cost.Worker
		err  string
	}{
		{"limits", job(map[string]string{"cpu": "2", "memory": "4Gi"}), cost.Worker{Platform: cost.CloudRunJob, CPU: 2, MemoryMB: 4096}, ""},
		{"defaults", job(nil), cost.Worker{Platform: cost.CloudRunJob, CPU: 1, MemoryMB: 512}, ""},
		{"a sidecar adds up", job(map[string]string{"cpu": "1", "memory": "2Gi"}, map[string]string{"cpu": "1000m", "memory": "512Mi"}),
			cost.Worker{Platform: cost.CloudRunJob, CPU: 2, MemoryMB: 2560}, ""},
		{"bad cpu", job(map[string]string{"cpu": "lots"}), cost.Worker{}, "container 0 (c)"},
		{"no template", &run.GoogleCloudRunV2Job{}, cost.Worker{}, "no task template"},
		{"nil", nil, cost.Worker{}, "no task template"},
	} {
		got, err := quota.JobWorker(tc.job)
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: JobWorker = %+v, %v; want %+v, %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}
