package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes data, which must be a single YAML document, into a
// new T: a field T does not know, at any depth, a value of the wrong type,
// a duplicate key or a second document is an error. what names the value
// in the error about data after it ("data after the service").
func decodeStrict[T any](data []byte, what string) (*T, error) {
	if err := singleDocument(data); err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the %s", what)
	}
	return &v, nil
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
