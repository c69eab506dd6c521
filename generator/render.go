package generator

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/helios-project/helios-scaffold/templates"
)

// ModulePath is the module that generated code imports its runtime from,
// and that helios-scaffold itself is built from.
const ModulePath = "github.com/helios-project/helios-scaffold"

// File is one rendered file.
type File struct {
	Data  []byte
	Mode  fs.FileMode
	Owner templates.Owner
}

// entry is a manifest entry with its templates parsed.
type entry struct {
	templates.Entry
	body, path, when *template.Template // when is nil for "always"
}

// compiled holds every target's entries, parsed once per process: parsing,
// and above all copying sprig's function map into each template, is most
// of the cost of a render.
var compiled = sync.OnceValues(func() (map[string][]entry, error) {
	manifest, err := templates.Load()
	if err != nil {
		return nil, err
	}
	funcs := sprig.TxtFuncMap()
	out := make(map[string][]entry)
	for target, list := range manifest {
		for _, e := range list {
			c := entry{Entry: e}
			if c.body, err = templates.Parse(e.Template, funcs); err != nil {
				return nil, err
			}
			if c.path, err = templates.ParseText(e.Template+" (path)", e.Path, funcs); err != nil {
				return nil, err
			}
			if e.When != "" {
				if c.when, err = templates.ParseText(e.Template+" (when)", e.When, funcs); err != nil {
					return nil, err
				}
			}
			out[target] = append(out[target], c)
		}
	}
	return out, nil
})

// view is what templates see: the inputs plus values derived from them.
type view struct {
	Inputs
	RuntimeModule string
	GOARCH        string
	GoImage       string
	// RuntimeReplaceDir is ReplaceRuntime when it names a folder inside
	// the repository, slash-separated and clean: the Dockerfile copies it
	// before go mod download. "" otherwise.
	RuntimeReplaceDir string
	// NPMVersion and NPMSHA512 pin the npm a --deps helios image installs.
	NPMVersion, NPMSHA512 string
	// What the state machine of --orchestrator stepfunctions is rendered
	// with: where its Map writes results and how chunk lists are named,
	// the TimeoutSeconds of its lambda:invoke Tasks, and the worker's
	// HELIOS_OUTPUT_LIMIT.
	StateMachineResultsPrefix, ChunkListSuffix string
	InvokeTimeoutSeconds                       int
	StateMachineOutputLimit                    int
}

// invokeTimeoutMargin is how much longer than the function's Timeout a
// lambda:invoke Task of the state machine waits: the worker answers
// before its own deadline, so the Task's timeout is only for an invoke
// that never returns.
const invokeTimeoutMargin = 60

// stateMachineOutputLimit is the worker's HELIOS_OUTPUT_LIMIT under the
// state machine: Step Functions passes at most 256 KiB (262,144 bytes)
// from a Task to the next state, and the answer carries the tails of
// stdout and stderr and a message of up to 4 KiB, each byte of which can
// cost up to 7 bytes once escaped in the body and again in the answer:
// (8 + 8 + 4) KiB x 7 = 140 KiB leaves room.
const stateMachineOutputLimit = 8192

// Render returns every file of in's target, keyed by slash-separated path
// relative to the repository. It reads nothing but the embedded templates:
// identical inputs give identical bytes. Go files are gofmt-formatted.
func Render(in Inputs) (map[string]File, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	entries, err := compiled()
	if err != nil {
		return nil, err
	}
	v := newView(in)
	out := make(map[string]File)
	for _, e := range entries[string(in.Target)] {
		p, ok, err := entryPath(e, v)
		if err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		data, err := execute(e.body, v)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(p, ".go") {
			if data, err = format.Source(data); err != nil {
				return nil, fmt.Errorf("formatting %s rendered from %s: %w", p, e.Template, err)
			}
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
		}
		out[p] = File{Data: data, Mode: mode, Owner: e.Owner}
	}
	return out, nil
}

func newView(in Inputs) view {
	v := view{Inputs: in, RuntimeModule: ModulePath, GoImage: GoImage, GOARCH: "amd64",
		RuntimeReplaceDir: ReplaceDirInRepo(in.ReplaceRuntime), NPMVersion: NPMVersion, NPMSHA512: NPMSHA512,
		StateMachineResultsPrefix: StateMachineResultsPrefix, ChunkListSuffix: ChunkListSuffix,
		InvokeTimeoutSeconds: in.TimeoutSeconds + invokeTimeoutMargin, StateMachineOutputLimit: stateMachineOutputLimit}
	if in.Arch == "arm64" {
		v.GOARCH = "arm64"
	}
	if in.Target == CloudRun {
		v.Image = ServiceImage(in)
	}
	return v
}

// ServiceImage is the Cloud Run service's image: --image, or an Artifact
// Registry repository named helios in the project.
func ServiceImage(in Inputs) string {
	if in.Image != "" {
		return in.Image
	}
	return fmt.Sprintf("%s-docker.pkg.dev/%s/helios/%s:v1", in.Region, in.Project, in.Name)
}

// entryPath renders an entry's path and reports whether its condition holds.
func entryPath(e entry, v view) (string, bool, error) {
	if e.when != nil {
		when, err := execute(e.when, v)
		if err != nil {
			return "", false, err
		}
		if string(when) != "true" {
			return "", false, nil
		}
	}
	p, err := execute(e.path, v)
	if err != nil {
		return "", false, err
	}
	clean := path.Clean(string(p))
	if !fs.ValidPath(clean) || clean != string(p) {
		return "", false, fmt.Errorf("rendering path of %s: %q is not a clean relative path", e.Template, p)
	}
	return clean, true, nil
}

func execute(t *template.Template, v view) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return buf.Bytes(), nil
}
