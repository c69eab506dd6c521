package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"text/template"
)

//go:embed manifest.json aws cloudrun common partials
var files embed.FS

// partialsDir holds templates that define named blocks ({{define "x"}})
// that every file template may use ({{template "x" .}}): the text that
// more than one target's files share.
const partialsDir = "partials"

// Owner says who owns a generated file.
type Owner string

const (
	// Tool files are rewritten by every regeneration while their content
	// still matches the hash recorded when they were last written. An edited
	// tool file is kept and reported, never overwritten without --force.
	Tool Owner = "tool"
	// User files are written once, when absent, and never rewritten.
	User Owner = "user"
)

// Entry is one file of a target: the template it is rendered from, the path
// it is written to (itself a template), its owner, its mode and the
// condition under which it is written.
type Entry struct {
	Template string `json:"template"`
	Path     string `json:"path"`
	Owner    Owner  `json:"owner"`
	// Mode is the file's permission bits; 0644 when zero.
	Mode fs.FileMode `json:"mode,omitempty"`
	// When, if set, is a template that must render to "true" for the file
	// to be written.
	When string `json:"when,omitempty"`
}

// Manifest maps each target ("aws", "cloudrun") to its files, in the order
// they are reported.
type Manifest map[string][]Entry

// Load parses the embedded manifest and checks that every template it names
// exists and that every owner is known.
func Load() (Manifest, error) {
	raw, err := files.ReadFile("manifest.json")
	if err != nil {
		return nil, fmt.Errorf("reading template manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parsing template manifest: %w", err)
	}
	for target, entries := range m {
		for _, e := range entries {
			if _, err := fs.Stat(files, e.Template); err != nil {
				return nil, fmt.Errorf("template manifest: %s: %w", target, err)
			}
			if e.Owner != Tool && e.Owner != User {
				return nil, fmt.Errorf("template manifest: %s: %s: unknown owner %q", target, e.Template, e.Owner)
			}
		}
	}
	return m, nil
}

// Parse parses the named template with the given function map, and the
// partials' named blocks with it.
func Parse(name string, funcs template.FuncMap) (*template.Template, error) {
	src, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading template %s: %w", name, err)
	}
	t, err := ParseText(name, string(src), funcs)
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(files, partialsDir+"/*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, p := range partials {
		text, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading template %s: %w", p, err)
		}
		if _, err := t.New(p).Parse(string(text)); err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", p, err)
		}
	}
	return t, nil
}

// ParseText parses text, such as a manifest's path or condition, as a
// template named name.
func ParseText(name, text string, funcs template.FuncMap) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing template %s: %w", name, err)
	}
	return t, nil
}
