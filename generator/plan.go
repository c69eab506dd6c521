package generator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/helios-project/helios-scaffold/templates"
)

// Fate is what a plan does with one file.
type Fate string

// The fates of a file.
const (
	Create     Fate = "create"      // absent: written
	Update     Fate = "update"      // ours and unedited: rewritten
	Unchanged  Fate = "unchanged"   // already as rendered, or a user file that exists
	SkipEdited Fate = "skip-edited" // a tool file the user edited: kept
	Conflict   Fate = "conflict"    // a file that is not ours and differs: nothing is written
	Stale      Fate = "stale"       // ours, no longer generated: left in place
	// Merge: a tool file the user edited, merged with the new render (3-way).
	Merge Fate = "merge"
	// MergeConflict: the merge has conflicts; both sides are written
	// between conflict markers, and the command fails (exit 3).
	MergeConflict Fate = "merge-conflict"
	// Unresolved: the file still holds conflict markers; it is kept, and
	// the command fails until they are resolved.
	Unresolved Fate = "unresolved"
)

// Owners of the two files that are not rendered from templates.
const (
	ownerGoMod   = "go.mod"
	ownerAnswers = "answers"
)

// Action is the fate of one file, with its content before and after.
type Action struct {
	Path  string
	Fate  Fate
	Owner string // "tool", "user", "go.mod" or "answers"
	Old   []byte // the file on disk; nil when absent
	New   []byte // what is written for Create, Update, Merge and MergeConflict
	Mode  fs.FileMode
	Note  string
	// Record, when set, is the hash that the answers file records for the
	// file: for a merge, the render's, so that the next run finds its
	// base as it found this one's.
	Record string
}

// Plan is every file's fate, computed before anything is written.
type Plan struct {
	Dir     string
	Actions []Action // sorted by path, the answers file last
	Notes   []string // go.mod changes worth telling
}

// Options change how a plan treats files that are not as recorded.
type Options struct {
	// Force overwrites edited tool files and conflicting files. Recorded
	// user-owned files are never overwritten.
	Force bool
}

// NewPlan compares files, rendered from in, with dir and with the answers
// prev recorded there (nil for none), and decides each file's fate. It reads
// but never writes.
//
// A tool file that the user edited is merged with the new render (3-way,
// as git merge-file does) when what helios-scaffold last wrote to it can be
// found: see [Plan] and docs/scaffolding.md. That may run git and, after an
// upgrade, the recorded version of helios-scaffold through the go command,
// offline; ctx bounds them.
func NewPlan(ctx context.Context, dir string, files map[string]File, in Inputs, prev *Answers, version string, opt Options) (*Plan, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	if prev == nil {
		prev = &Answers{}
	} else if prev.Inputs.Target != in.Target && !opt.Force {
		return nil, fmt.Errorf("%w: %s is scaffolded for %s (%s), not %s; use --force to switch", ErrTargetMismatch, dir, prev.Inputs.Target, AnswersFile, in.Target)
	}
	p := &Plan{Dir: dir}
	next := Answers{Version: version, Inputs: in, Files: map[string]string{}}
	bases := &baseFinder{ctx: ctx, dir: dir, prev: prev, version: version}

	for _, name := range sortedKeys(files) {
		f := files[name]
		a, err := fileAction(dir, name, f, prev.Files[name], opt)
		if err == nil && a.Fate == SkipEdited {
			a, err = mergeAction(ctx, a, prev.Files[name], bases)
		}
		if err != nil {
			return nil, err
		}
		// A conflicting file is not ours: nothing to record.
		if h := recordedHash(a, prev.Files[name]); h != "" {
			next.Files[name] = h
		}
		p.Actions = append(p.Actions, a)
	}
	stale, err := staleActions(dir, files, prev, next.Files)
	if err != nil {
		return nil, err
	}
	p.Actions = append(p.Actions, stale...)
	gomod, err := goModAction(dir, in, version)
	if err != nil {
		return nil, err
	}
	p.Actions = append(p.Actions, gomod.action)
	p.Notes = gomod.notes
	next.Inputs.Module = gomod.module
	slices.SortFunc(p.Actions, func(a, b Action) int { return strings.Compare(a.Path, b.Path) })

	answers, err := readFile(dir, AnswersFile)
	if err != nil {
		return nil, err
	}
	p.Actions = append(p.Actions, contentAction(AnswersFile, ownerAnswers, answers, next.Marshal(), 0o644))
	return p, nil
}

// fileAction decides the fate of one rendered file given what is on disk
// and the hash recorded when it was last written ("" if never).
func fileAction(dir, name string, f File, recorded string, opt Options) (Action, error) {
	a := Action{Path: name, Owner: string(f.Owner), New: f.Data, Mode: f.Mode}
	old, err := readFile(dir, name)
	if err != nil {
		return a, err
	}
	a.Old = old
	edited := old != nil && Hash(old) != recorded // meaningful once recorded != ""
	switch {
	case old == nil:
		a.Fate = Create
	case string(old) == string(f.Data):
		a.Fate = Unchanged
	case f.Owner == templates.User:
		a.Fate, a.Note = userFileFate(recorded, opt)
	case recorded == "" && opt.Force:
		a.Fate, a.Note = Update, "was not ours; overwritten (--force)"
	case recorded == "":
		a.Fate, a.Note = Conflict, "exists and was not written by helios-scaffold; move it away or use --force"
	case edited && opt.Force:
		a.Fate, a.Note = Update, "edited; overwritten (--force)"
	case edited:
		a.Fate, a.Note = SkipEdited, "edited since helios-scaffold wrote it; kept (--force overwrites)"
	default:
		a.Fate = Update
	}
	return a, nil
}

// userFileFate is the fate of a user-owned file that exists and differs
// from the template: it is never overwritten, not even with Force, which
// only adopts a file helios-scaffold did not write.
func userFileFate(recorded string, opt Options) (Fate, string) {
	switch {
	case recorded != "":
		return Unchanged, "never rewritten"
	case opt.Force:
		return Unchanged, "not written by helios-scaffold; kept as yours (user files are never overwritten, even with --force)"
	}
	return Conflict, "exists and was not written by helios-scaffold; move it away, or keep it as yours with --force"
}

// staleActions reports the recorded files that are no longer generated,
// such as those of a previous --name, and keeps them in the record next
// while they exist, so that they stay known as ours, or as the user's.
func staleActions(dir string, files map[string]File, prev *Answers, next map[string]string) ([]Action, error) {
	var before map[string]File // what prev rendered, for the owners; made when needed
	var out []Action
	for _, name := range sortedKeys(prev.Files) {
		if _, ok := files[name]; ok {
			continue
		}
		old, err := readFile(dir, name)
		if err != nil {
			return nil, err
		}
		if old == nil {
			continue // deleted: forget it
		}
		next[name] = prev.Files[name]
		if before == nil {
			before, _ = Render(prev.Inputs) // prev was validated when read
		}
		a := Action{Path: name, Fate: Stale, Owner: string(templates.Tool), Old: old,
			Note: "no longer generated; left in place, delete it if unused"}
		if f, ok := before[name]; ok && f.Owner == templates.User {
			a.Owner = string(templates.User)
			a.Note = "no longer used; move what you changed into its replacement, then delete it"
		}
		out = append(out, a)
	}
	return out, nil
}

// recordedHash is the hash to record for a file after the plan is applied:
// the hash of what we write, or, for a kept edit, what we last wrote.
func recordedHash(a Action, prev string) string {
	if a.Record != "" {
		return a.Record
	}
	switch a.Fate {
	case Create, Update:
		return Hash(a.New)
	case Unchanged:
		switch {
		case string(a.Old) == string(a.New):
			return Hash(a.New)
		case prev != "":
			return prev // a user file, kept as the user has it
		}
		return Hash(a.Old) // a user file adopted with Force
	default:
		return prev
	}
}

type goModResult struct {
	action Action
	module string
	notes  []string
}

func goModAction(dir string, in Inputs, version string) (goModResult, error) {
	old, err := readFile(dir, "go.mod")
	if err != nil {
		return goModResult{}, err
	}
	edit, err := EditGoMod(old, in, version)
	if err != nil {
		return goModResult{}, fmt.Errorf("%s: %w", filepath.Join(dir, "go.mod"), err)
	}
	if r := in.ReplaceRuntime; r != "" {
		if !filepath.IsAbs(r) {
			r = filepath.Join(dir, r)
		}
		if _, err := os.Stat(filepath.Join(r, "go.mod")); err != nil {
			edit.Notes = append(edit.Notes, fmt.Sprintf("--replace-runtime %s: no go.mod there yet; builds fail until %s is checked out there", in.ReplaceRuntime, ModulePath))
		}
	}
	edit.Notes = append(edit.Notes, replaceNotes(edit.Data, in)...)
	return goModResult{
		action: contentAction("go.mod", ownerGoMod, old, edit.Data, 0o644),
		module: edit.Module,
		notes:  edit.Notes,
	}, nil
}

// contentAction is the fate of a file that is always ours to edit.
func contentAction(name, owner string, old, data []byte, mode fs.FileMode) Action {
	a := Action{Path: name, Owner: owner, Old: old, New: data, Mode: mode, Fate: Update}
	switch {
	case old == nil:
		a.Fate = Create
	case string(old) == string(data):
		a.Fate = Unchanged
	}
	return a
}

// readFile returns a file's content, or nil when it does not exist.
func readFile(dir, name string) ([]byte, error) {
	full := filepath.Join(dir, filepath.FromSlash(name))
	data, err := os.ReadFile(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", full, err)
	case data == nil:
		return []byte{}, nil
	}
	return data, nil
}

// CheckDir accepts a directory, or a path that does not exist yet (init
// makes it); anything else is an input error.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, syscall.ENOTDIR):
		return inputErrorf("--dir %s: a parent is not a directory", dir)
	case err != nil:
		return fmt.Errorf("--dir %s: %w", dir, err)
	case !st.IsDir():
		return inputErrorf("--dir %s is not a directory", dir)
	}
	return nil
}

// Conflicts returns the actions that stop the plan from being applied.
func (p *Plan) Conflicts() []Action { return p.filter(Conflict) }

// Changes returns the actions that write a file.
func (p *Plan) Changes() []Action { return p.filter(Create, Update, Merge, MergeConflict) }

// MergeConflicts returns the files whose merge left conflict markers, now
// or in an earlier run: the command fails until they are resolved.
func (p *Plan) MergeConflicts() []Action { return p.filter(MergeConflict, Unresolved) }

func (p *Plan) filter(fates ...Fate) []Action {
	var out []Action
	for _, a := range p.Actions {
		if slices.Contains(fates, a.Fate) {
			out = append(out, a)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
