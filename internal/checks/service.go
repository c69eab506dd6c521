package checks

import (
	"errors"
	"fmt"

	run "google.golang.org/api/run/v1"
)

// The type a Cloud Run service.yaml declares, for gcloud run services replace.
const (
	ServiceAPIVersion = "serving.knative.dev/v1"
	ServiceKind       = "Service"
)

// ErrBadService is wrapped by every error [Service] returns.
var ErrBadService = errors.New("invalid cloud run service.yaml")

// Service decodes a Cloud Run service.yaml into the Admin API's v1 Service.
// The decoding is strict: a field the API does not know, at any depth, a
// value of the wrong type, a duplicate key or a second document is an
// error, as is an apiVersion other than serving.knative.dev/v1 or a kind
// other than Service.
func Service(data []byte) (*run.Service, error) {
	svc, err := decodeStrict[run.Service](data, "service")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadService, err)
	}
	if svc.ApiVersion != ServiceAPIVersion {
		return nil, fmt.Errorf("%w: apiVersion %q, want %q", ErrBadService, svc.ApiVersion, ServiceAPIVersion)
	}
	if svc.Kind != ServiceKind {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrBadService, svc.Kind, ServiceKind)
	}
	return svc, nil
}
