package quota

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/api/googleapi"
	run "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// Cloud Run's defaults, for what a service does not say.
const (
	runDefaultMaxInstances = 100 // instances, when no maximum is set
	runDefaultConcurrency  = 80  // requests per instance with 1 vCPU or more
	runDefaultCPU          = 1   // vCPUs per container
	runDefaultMemory       = "512Mi"
)

// ServiceName returns the full name of a Cloud Run service,
// projects/PROJECT/locations/REGION/services/NAME, as CloudRun takes it.
func ServiceName(project, region, name string) string {
	return "projects/" + project + "/locations/" + region + "/services/" + name
}

// CloudRun reads the limits of the Cloud Run service called name
// (projects/P/locations/L/services/S; see [ServiceName]) through the
// Cloud Run Admin API v2.
//
// The limit is the requests the service can have in flight: its maximum
// instances (the lower of the service's and the revision template's when
// both are set; Cloud Run's default of 100 when neither is; the instance
// count when scaled by hand) times each instance's request concurrency
// (maxInstanceRequestConcurrency; when unset Cloud Run's default, 80
// with 1 vCPU or more and 1 below). The Worker is the containers' CPU
// and memory limits added up (Cloud Run's defaults, 1 vCPU and 512 MiB,
// for a container that sets none).
//
// A service that is not there is an error wrapping [ErrNoService]; one
// scaled by hand to no instance, an error wrapping [ErrThrottled]. A
// read that is denied (HTTP 403) is no error: the Limits are unknown and
// Why says so.
func CloudRun(ctx context.Context, svc *run.Service, name string) (Limits, error) {
	s, err := svc.Projects.Locations.Services.Get(name).Context(ctx).Do()
	if err != nil {
		var gerr *googleapi.Error
		if errors.As(err, &gerr) {
			switch gerr.Code {
			case http.StatusNotFound:
				return Limits{}, fmt.Errorf("reading Cloud Run service %s: %w: %w", name, ErrNoService, err)
			case http.StatusForbidden:
				return Limits{Why: "concurrency unknown; run.services.get on " + name + " was denied, so its scaling, CPU and memory are unknown"}, nil
			}
		}
		return Limits{}, fmt.Errorf("reading Cloud Run service %s: %w", name, err)
	}
	t := s.Template
	if t == nil {
		return Limits{}, fmt.Errorf("reading Cloud Run service %s: the service has no revision template", name)
	}

	w, err := containersWorker(cost.CloudRun, t.Containers)
	if err != nil {
		return Limits{}, fmt.Errorf("reading Cloud Run service %s: %w", name, err)
	}
	l := Limits{}
	if len(t.Containers) > 0 {
		l.Worker = w
	}

	perInstance, perWhy := int(t.MaxInstanceRequestConcurrency), "%d requests each"
	if perInstance <= 0 {
		perInstance, perWhy = runDefaultConcurrency, "Cloud Run's default of %d requests each"
		if w.CPU > 0 && w.CPU < 1 {
			perInstance, perWhy = 1, "Cloud Run's default of %d request each below 1 vCPU"
		}
	} else if perInstance == 1 {
		perWhy = "%d request each"
	}

	var instances int
	var instWhy string
	var tmax, smax int
	if t.Scaling != nil {
		tmax = int(t.Scaling.MaxInstanceCount)
	}
	if sc := s.Scaling; sc != nil {
		smax = int(sc.MaxInstanceCount)
		if sc.ScalingMode == "MANUAL" {
			instances = int(sc.ManualInstanceCount)
			if instances <= 0 {
				l.Why = "the service is scaled by hand to no instance"
				return l, fmt.Errorf("reading the limits of Cloud Run service %s: %w: it is scaled by hand to no instance", name, ErrThrottled)
			}
			instWhy = fmt.Sprintf("the service's %d instances (scaled by hand)", instances)
		}
	}
	switch {
	case instWhy != "":
	case tmax > 0 && (smax <= 0 || tmax <= smax):
		instances, instWhy = tmax, fmt.Sprintf("the service's maximum of %d instances", tmax)
	case smax > 0:
		instances, instWhy = smax, fmt.Sprintf("the service's maximum of %d instances", smax)
	default:
		instances, instWhy = runDefaultMaxInstances, fmt.Sprintf("Cloud Run's default maximum of %d instances", runDefaultMaxInstances)
	}
	l.Concurrency = instances * perInstance
	l.Why = fmt.Sprintf("%s × "+perWhy+" = %d in flight", instWhy, perInstance, l.Concurrency)
	return l, nil
}

// JobWorker is what each task of a Cloud Run job is given, and billed
// for: its containers' CPU and memory limits added up (Cloud Run's
// defaults, 1 vCPU and 512 MiB, for a container that sets none). A job
// without a task template is an error.
func JobWorker(job *run.GoogleCloudRunV2Job) (cost.Worker, error) {
	if job == nil || job.Template == nil || job.Template.Template == nil || len(job.Template.Template.Containers) == 0 {
		return cost.Worker{}, errors.New("reading a Cloud Run job's task size: the job has no task template with a container")
	}
	w, err := containersWorker(cost.CloudRunJob, job.Template.Template.Containers)
	if err != nil {
		return cost.Worker{}, fmt.Errorf("reading Cloud Run job %s's task size: %w", job.Name, err)
	}
	return w, nil
}

// containersWorker is the CPU and memory of containers, added up, on
// platform.
func containersWorker(platform cost.Platform, containers []*run.GoogleCloudRunV2Container) (cost.Worker, error) {
	w := cost.Worker{Platform: platform}
	for i, c := range containers {
		cpu, memory := "", ""
		if c.Resources != nil {
			cpu, memory = c.Resources.Limits["cpu"], c.Resources.Limits["memory"]
		}
		n := float64(runDefaultCPU)
		if cpu != "" {
			var err error
			if n, err = ParseCPU(cpu); err != nil {
				return cost.Worker{}, fmt.Errorf("container %d (%s): %w", i, c.Name, err)
			}
		}
		if memory == "" {
			memory = runDefaultMemory
		}
		mb, err := parseMemoryMB(memory)
		if err != nil {
			return cost.Worker{}, fmt.Errorf("container %d (%s): %w", i, c.Name, err)
		}
		w.CPU += n
		w.MemoryMB += mb
	}
	return w, nil
}
