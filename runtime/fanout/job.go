package fanout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// ErrBadSpec is a job spec that cannot be run as it is: it does not
// parse, or its chunks' outputFiles collide or leave its folder.
var ErrBadSpec = errors.New("bad job spec")

// maxSpecBytes bounds a job spec read by [LoadJob]: 10,000 chunks are
// about 2 MB.
const maxSpecBytes = 64 << 20

// Job is a job spec as a run sees it.
type Job struct {
	Spec *jobspec.Spec
	// Location is where the spec was read: a local path, or an s3://,
	// gs://, http(s):// location.
	Location string
	// Raw is the spec as read, and Hash its SHA-256 ("sha256:HEX"), which
	// ties a state file to it.
	Raw  []byte
	Hash string
	// Warnings are what the spec holds that the workers pass over:
	// unknown keys that are no near miss of a known one.
	Warnings []string
}

// LoadJob reads the job spec at location through src and checks it with
// [ParseJob].
func LoadJob(ctx context.Context, location string, src store.Source) (*Job, error) {
	rc, err := src.Open(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("reading job spec %s: %w", location, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading job spec %s: %w", location, err)
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("%w: %s is over %d MiB", ErrBadSpec, location, maxSpecBytes>>20)
	}
	return ParseJob(location, data)
}

// ParseJob parses data, the job spec at location, as the workers will
// (duplicate keys and chunk ids refused), and checks what a run needs on
// top: every outputFile is a relative path inside the output folder, and
// no two chunks write the same one.
func ParseJob(location string, data []byte) (*Job, error) {
	spec, err := jobspec.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadSpec, location, err)
	}
	warnings, err := checkSpec(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadSpec, location, err)
	}
	seen := map[string]int64{}
	for _, c := range spec.Chunks {
		if c.OutputFile == "" {
			continue
		}
		name := filepath.FromSlash(c.OutputFile)
		if strings.ContainsRune(name, 0) {
			return nil, fmt.Errorf("%w: %s: chunk %d: outputFile %q holds a NUL byte, which no file name can", ErrBadSpec, location, c.ID, c.OutputFile)
		}
		if !filepath.IsLocal(name) {
			return nil, fmt.Errorf("%w: %s: chunk %d: outputFile %q is not a relative path inside the output folder",
				ErrBadSpec, location, c.ID, c.OutputFile)
		}
		key := filepath.Clean(name)
		if other, ok := seen[key]; ok {
			return nil, fmt.Errorf("%w: %s: chunks %d and %d both write outputFile %q", ErrBadSpec, location, other, c.ID, c.OutputFile)
		}
		seen[key] = c.ID
	}
	sum := sha256.Sum256(data)
	return &Job{Spec: spec, Location: location, Raw: data, Hash: "sha256:" + hex.EncodeToString(sum[:]), Warnings: warnings}, nil
}

// WithLocations returns the spec as read, with assetsUrl and outputUrl
// set to assets and output where those are not "" (and kept as they are
// where they are). Every other field stays, those the worker does not
// know too.
func (j *Job) WithLocations(assets, output string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(j.Raw, &doc); err != nil {
		return nil, fmt.Errorf("rewriting job spec %s: %w", j.Location, err)
	}
	for key, value := range map[string]string{"assetsUrl": assets, "outputUrl": output} {
		if value != "" {
			doc[key], _ = json.Marshal(value)
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rewriting job spec %s: %w", j.Location, err)
	}
	return append(out, '\n'), nil
}

// Name is the spec's id, or the name the workers give a job without one
// ([store.Location.JobName]: "job" for ".../job.json").
func (j *Job) Name() string {
	if j.Spec.ID != "" {
		return j.Spec.ID
	}
	return store.ParseLocation(j.Location).JobName()
}

// Only is job with only the chunks of ids, in spec order: a run over it
// renders those again. The rest (location, hash) is the same.
func (j *Job) Only(ids []int64) *Job {
	keep := make(map[int64]bool, len(ids))
	for _, id := range ids {
		keep[id] = true
	}
	spec := *j.Spec
	spec.Chunks = nil
	for _, c := range j.Spec.Chunks {
		if keep[c.ID] {
			spec.Chunks = append(spec.Chunks, c)
		}
	}
	only := *j
	only.Spec = &spec
	return &only
}

// FileName is [Job.Name] as a file name: the characters of a portable
// file name kept (letters, digits, '.', '_', '-'), each other one
// replaced by '_', no leading dot, at most 100 bytes; "job" for none. A
// spec id such as "/../../x" cannot make a file outside the folder it is
// joined to.
func (j *Job) FileName() string {
	b := []byte(j.Name())
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	name := strings.TrimLeft(string(b[:min(len(b), 100)]), ".")
	if strings.Trim(name, "_") == "" {
		return "job"
	}
	return name
}

// hasOutputs reports whether a chunk of the spec names an outputFile.
func (j *Job) hasOutputs() bool {
	for _, c := range j.Spec.Chunks {
		if c.OutputFile != "" {
			return true
		}
	}
	return false
}
