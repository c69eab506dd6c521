package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	run "google.golang.org/api/run/v1"
	"sigs.k8s.io/yaml"
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
	if err := singleDocument(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var job run.Job
	if err := dec.Decode(&job); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the job", ErrBadJob)
	}
	if job.ApiVersion != JobAPIVersion {
		return nil, fmt.Errorf("%w: apiVersion %q, want %q", ErrBadJob, job.ApiVersion, JobAPIVersion)
	}
	if job.Kind != JobKind {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrBadJob, job.Kind, JobKind)
	}
	return &job, nil
}
