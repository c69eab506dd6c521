package checks

import (
	"errors"
	"fmt"

	run "google.golang.org/api/run/v1"
)

// The type a Cloud Run job.yaml declares, for gcloud run jobs replace.
const (
	JobAPIVersion = "run.googleapis.com/v1"
	JobKind       = "Job"
)

// ErrBadJob is wrapped by every error [Job] returns.
var ErrBadJob = errors.New("invalid cloud run job.yaml")

// Job decodes a Cloud Run job.yaml into the Admin API's v1 Job, as
// strictly as [Service] decodes a service: an unknown field at any depth,
// a value of the wrong type (the v1 API carries TaskSpec.timeoutSeconds, an
// int64, as a JSON string), a duplicate key or a second document is an
// error, as is an apiVersion other than run.googleapis.com/v1 or a kind
// other than Job.
func Job(data []byte) (*run.Job, error) {
	job, err := decodeStrict[run.Job](data, "job")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if job.ApiVersion != JobAPIVersion {
		return nil, fmt.Errorf("%w: apiVersion %q, want %q", ErrBadJob, job.ApiVersion, JobAPIVersion)
	}
	if job.Kind != JobKind {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrBadJob, job.Kind, JobKind)
	}
	return job, nil
}
