package generator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrMergeConflict is wrapped when a merge left conflict markers in a file,
// now or in an earlier run, so that the command fails until they are
// resolved.
var ErrMergeConflict = errors.New("merge conflicts")

// mergeAction turns the fate of an edited tool file (SkipEdited) into a
// merge of the user's edit with the new render, when the render changed
// and what helios-scaffold last wrote can be found.
func mergeAction(ctx context.Context, a Action, recorded string, bases *baseFinder) (Action, error) {
	if ranges := ConflictRanges(a.Old); len(ranges) > 0 {
		a.Fate = Unresolved
		a.Note = "conflict markers remain at lines " + joinRanges(ranges) + ": keep what you want of both sides, remove the markers, then run generate again"
		return a, nil
	}
	if Hash(a.New) == recorded {
		return a, nil // the render is as last written: nothing to merge
	}
	base, from := bases.find(a.Path, recorded)
	if base == nil {
		a.Note = "edited since helios-scaffold wrote it; kept, so the new inputs do not reach it: no copy of what it last wrote was found to merge with"
		if bases.oldErr != nil {
			a.Note += " (" + bases.oldErr.Error() + ")"
		}
		a.Note += " (--diff shows them, --force overwrites)"
		return a, nil
	}
	m, err := Merge3(ctx, a.Old, base, a.New)
	if errors.Is(err, ErrNoGit) {
		a.Note = "edited since helios-scaffold wrote it; kept, so the new inputs do not reach it: merging needs git on PATH (--diff shows them, --force overwrites)"
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("merging %s: %w", a.Path, err)
	}
	a.Record = Hash(a.New)
	switch {
	case len(m.Conflicts) > 0:
		a.Fate, a.New = MergeConflict, m.Data
		a.Note = "your edit and the new render change the same lines: both are in the file, between conflict markers, at lines " +
			joinRanges(m.Conflicts) + "; resolve them, then run generate again (merged from " + from + ")"
	case bytes.Equal(m.Data, a.Old):
		a.Note = "edited; it already holds the new render's changes"
	default:
		a.Fate, a.New = Merge, m.Data
		a.Note = "your edit and the new render, merged (from " + from + ")"
	}
	return a, nil
}

func joinRanges(rs []LineRange) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// baseFinder finds what helios-scaffold last wrote to a file, the base of
// a 3-way merge, in this order, each checked against the sha256 that the
// answers file recorded: a render of the recorded inputs by this version
// when it is the recorded one; else by the recorded version, run offline
// through the go command (helios-scaffold render); else a past version of
// the file in its git history.
type baseFinder struct {
	ctx     context.Context
	dir     string
	prev    *Answers
	version string

	same, old         map[string][]byte // renders of prev.Inputs, made when first needed
	sameDone, oldDone bool
	oldErr            error // why the recorded version could not render
}

func (b *baseFinder) find(name, recorded string) ([]byte, string) {
	switch {
	case b.prev.Version == b.version:
		if !b.sameDone {
			b.same, b.sameDone = renderData(b.prev.Inputs), true
		}
		if data, ok := b.same[name]; ok && Hash(data) == recorded {
			return data, "a render of the recorded inputs"
		}
	case b.prev.Version != "" && b.prev.Version != Devel:
		if !b.oldDone {
			b.old, b.oldErr = renderWith(b.ctx, b.dir, b.prev.Version)
			b.oldDone = true
		}
		if data, ok := b.old[name]; ok && Hash(data) == recorded {
			return data, "helios-scaffold " + b.prev.Version + "'s render of the recorded inputs"
		}
	}
	if data := gitBlob(b.ctx, b.dir, name, recorded); data != nil {
		return data, "the file's git history"
	}
	return nil, ""
}

// renderData renders in, or returns nil when in no longer renders.
func renderData(in Inputs) map[string][]byte {
	files, err := Render(in)
	if err != nil {
		return nil
	}
	out := make(map[string][]byte, len(files))
	for name, f := range files {
		out[name] = f.Data
	}
	return out
}

// RenderOutput is what helios-scaffold render prints: a stable interface
// between versions, which lets a later version merge the user's edits with
// what this one rendered.
type RenderOutput struct {
	Version string            `json:"version"`
	Files   map[string]string `json:"files"`
}

// renderWith runs helios-scaffold at version, from the module cache and
// offline (GOPROXY=off: the user's go.mod required it before an upgrade, so
// it is there), to render the recorded inputs in dir. It builds it in a
// throwaway module that requires that version: go run module@version would
// look up the module's deprecation, which needs the network. The checksum
// database is not asked either: the cache's copies were checked when they
// were downloaded.
func renderWith(ctx context.Context, dir, version string) (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "helios-scaffold-base-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	gomod := fmt.Sprintf("module helios-scaffold-base\n\ngo 1.21\n\nrequire %s %s\n", ModulePath, version)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "run", ModulePath, "render", "--dir", abs)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("helios-scaffold %s render: %w: %s", version, err, lastLine(stderr.String()))
	}
	var r RenderOutput
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("helios-scaffold %s render: %w", version, err)
	}
	files := make(map[string][]byte, len(r.Files))
	for name, data := range r.Files {
		files[name] = []byte(data)
	}
	return files, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// gitBlob looks through the git history of dir/name, on every branch, for
// a version whose sha256 is recorded; nil when there is none, or no git.
func gitBlob(ctx context.Context, dir, name, recorded string) []byte {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, git, args...)
		cmd.Dir = dir
		return cmd.Output()
	}
	out, err := run("log", "--all", "--format=", "--raw", "--no-abbrev", "--", filepath.FromSlash(name))
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		// :100644 100644 OLD NEW M\tpath
		fields := strings.Fields(strings.SplitN(line, "\t", 2)[0])
		if len(fields) < 4 {
			continue
		}
		for _, blob := range fields[2:4] {
			if seen[blob] || strings.Trim(blob, "0") == "" {
				continue
			}
			seen[blob] = true
			if data, err := run("cat-file", "blob", blob); err == nil && Hash(data) == recorded {
				return data
			}
		}
	}
	return nil
}
