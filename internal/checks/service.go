package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	yamlv3 "go.yaml.in/yaml/v3"
	run "google.golang.org/api/run/v1"
	"sigs.k8s.io/yaml"
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
	if err := singleDocument(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadService, err)
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadService, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var svc run.Service
	if err := dec.Decode(&svc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadService, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the service", ErrBadService)
	}
	if svc.ApiVersion != ServiceAPIVersion {
		return nil, fmt.Errorf("%w: apiVersion %q, want %q", ErrBadService, svc.ApiVersion, ServiceAPIVersion)
	}
	if svc.Kind != ServiceKind {
		return nil, fmt.Errorf("%w: kind %q, want %q", ErrBadService, svc.Kind, ServiceKind)
	}
	return &svc, nil
}

// singleDocument fails unless data holds exactly one YAML document, as
// YAMLToJSON would silently drop the others.
func singleDocument(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var doc yamlv3.Node
		err := dec.Decode(&doc)
		switch {
		case errors.Is(err, io.EOF) && n == 1:
			return nil
		case errors.Is(err, io.EOF):
			return fmt.Errorf("%d yaml documents, want 1", n)
		case err != nil:
			return fmt.Errorf("yaml: %w", err)
		}
	}
}
