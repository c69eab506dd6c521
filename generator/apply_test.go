package generator_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// treeSnapshot maps every file and directory under dir to its mode and content.
func treeSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var data []byte
		if d.Type().IsRegular() {
			if data, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%v %q", info.Mode(), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func treeUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := treeSnapshot(t, dir)
	if maps.Equal(before, after) {
		return
	}
	for p, v := range after {
		if before[p] != v {
			t.Errorf("%s: now %.80s, was %.80q", p, v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: removed", p)
		}
	}
}

// blockDir makes dir/name unusable as a directory: a read-only directory, or,
// for root, whom permissions do not stop, a regular file.
func blockDir(t *testing.T, dir, name string) {
	t.Helper()
	full := filepath.Join(dir, name)
	if os.Geteuid() == 0 {
		putFile(t, dir, name, "a file where a directory is wanted\n")
		return
	}
	if err := os.Mkdir(full, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(full, 0o755) })
}

func TestApplyConflictWritesNothing(t *testing.T) {
	dir := t.TempDir()
	putFile(t, dir, "template.yaml", "# mine\n")
	putFile(t, dir, "go.mod", "module example.com/farm\n")
	p := planDir(t, dir, farmInputs(), nil, generator.Options{})
	before := treeSnapshot(t, dir)
	err := p.Apply(context.Background())
	if !errors.Is(err, generator.ErrConflict) || !strings.Contains(err.Error(), "template.yaml") {
		t.Errorf("Apply = %v, want ErrConflict naming template.yaml", err)
	}
	treeUnchanged(t, dir, before)
}

func TestApplyStagingFailureWritesNothing(t *testing.T) {
	dir := t.TempDir()
	putFile(t, dir, "go.mod", "module example.com/farm\n")
	p := planDir(t, dir, farmInputs(), nil, generator.Options{})
	blockDir(t, dir, "cmd") // after planning: cmd/worker/main.go cannot be made
	before := treeSnapshot(t, dir)
	err := p.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cmd/worker/main.go") {
		t.Errorf("Apply = %v, want an error naming cmd/worker/main.go", err)
	}
	treeUnchanged(t, dir, before)
}

func TestApplyStagingFailureRemovesDirectories(t *testing.T) {
	dir := t.TempDir()
	blockDir(t, dir, "locked")
	p := &generator.Plan{Dir: dir, Actions: []generator.Action{
		{Path: "a.txt", Fate: generator.Create, New: []byte("a\n"), Mode: 0o644},
		{Path: "new/deep/er/b.txt", Fate: generator.Create, New: []byte("b\n"), Mode: 0o644},
		{Path: "locked/sub/c.txt", Fate: generator.Create, New: []byte("c\n"), Mode: 0o644},
	}}
	before := treeSnapshot(t, dir)
	if err := p.Apply(context.Background()); err == nil {
		t.Fatal("Apply into a blocked directory succeeded")
	}
	treeUnchanged(t, dir, before)
}

func TestApplyRenameFailure(t *testing.T) {
	dir := t.TempDir()
	p := planDir(t, dir, farmInputs(), nil, generator.Options{})
	// A directory where template.yaml goes: its rename fails after the
	// files before it are renamed into place.
	if err := os.Mkdir(filepath.Join(dir, "template.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := p.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "template.yaml") {
		t.Fatalf("Apply = %v, want an error about template.yaml", err)
	}
	for name := range treeSnapshot(t, dir) {
		if strings.HasPrefix(filepath.Base(name), ".helios-scaffold-") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, generator.AnswersFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the answers file was written after a failed rename: %v", err)
	}
}

func TestApplyRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	const keep = "kept.tmp"
	for _, name := range []string{".helios-scaffold-123.tmp", "cmd/worker/.helios-scaffold-456.tmp", keep} {
		putFile(t, dir, name, "partial")
	}
	answers := scaffold(t, dir, farmInputs(), nil, generator.Options{})
	var left []string
	for name := range treeSnapshot(t, dir) {
		if strings.HasSuffix(name, ".tmp") {
			left = append(left, name)
		}
	}
	if len(left) != 1 || left[0] != keep {
		t.Errorf("files ending in .tmp after Apply: %q, want only %s", left, keep)
	}

	// A run with nothing to write removes them too.
	putFile(t, dir, "cmd/worker/.helios-scaffold-789.tmp", "partial")
	scaffold(t, dir, farmInputs(), answers, generator.Options{})
	if _, err := os.Stat(filepath.Join(dir, "cmd/worker/.helios-scaffold-789.tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a leftover survived a run with no changes: %v", err)
	}
}

func TestApplyCanceled(t *testing.T) {
	parent := t.TempDir()
	for _, dir := range []string{parent, filepath.Join(parent, "repo")} {
		p := planDir(t, dir, farmInputs(), nil, generator.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := treeSnapshot(t, parent)
		if err := p.Apply(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Apply(canceled) = %v, want context.Canceled", err)
		}
		treeUnchanged(t, parent, before)
	}
}

func TestApplyModes(t *testing.T) {
	dir := t.TempDir()
	putFile(t, dir, "old.sh", "old")
	if err := os.Chmod(filepath.Join(dir, "old.sh"), 0o600); err != nil {
		t.Fatal(err)
	}
	modes := map[string]fs.FileMode{"run.sh": 0o755, "secret": 0o600, "bin/tool": 0o750, "old.sh": 0o755, "plain.txt": 0o644}
	p := &generator.Plan{Dir: dir}
	for _, name := range []string{"bin/tool", "old.sh", "plain.txt", "run.sh", "secret"} {
		fate := generator.Create
		if name == "old.sh" {
			fate = generator.Update
		}
		p.Actions = append(p.Actions, generator.Action{Path: name, Fate: fate, New: []byte(name), Mode: modes[name]})
	}
	if err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, want := range modes {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want || fileText(t, dir, name) != name {
			t.Errorf("%s: mode %v, content %q; want %v, %q", name, st.Mode(), fileText(t, dir, name), want, name)
		}
	}

	// A plan from templates writes each file with its planned mode.
	repo := t.TempDir()
	rp := planDir(t, repo, farmInputs(), nil, generator.Options{})
	if err := rp.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, a := range rp.Actions {
		if st, err := os.Stat(filepath.Join(repo, filepath.FromSlash(a.Path))); err != nil || st.Mode() != a.Mode {
			t.Errorf("%s: %v, %v; want mode %v", a.Path, st.Mode(), err, a.Mode)
		}
	}
}

func TestActionDiff(t *testing.T) {
	tests := []struct {
		name string
		a    generator.Action
		want string
	}{
		{"create", generator.Action{Path: "notes.txt", Fate: generator.Create, New: []byte("a\nb\n")},
			"--- /dev/null\n+++ b/notes.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"update", generator.Action{Path: "cmd/w/notes.txt", Fate: generator.Update, Old: []byte("a\nb\nc\n"), New: []byte("a\nB\nc\n")},
			"--- a/cmd/w/notes.txt\n+++ b/cmd/w/notes.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"update of an empty file", generator.Action{Path: "e", Fate: generator.Update, Old: []byte{}, New: []byte("x\n")},
			"--- a/e\n+++ b/e\n@@ -0,0 +1 @@\n+x\n"},
		{"unchanged", generator.Action{Path: "u", Fate: generator.Unchanged, Old: []byte("a\n"), New: []byte("a\n")}, ""},
		{"skip-edited: what --force would write", generator.Action{Path: "s", Fate: generator.SkipEdited, Old: []byte("mine\n"), New: []byte("ours\n")},
			"--- a/s (on disk)\n+++ b/s (generated; --force writes it)\n@@ -1 +1 @@\n-mine\n+ours\n"},
		{"conflict: what --force would write", generator.Action{Path: "c", Fate: generator.Conflict, Old: []byte("mine\n"), New: []byte("ours\n")},
			"--- a/c (on disk)\n+++ b/c (generated; --force writes it)\n@@ -1 +1 @@\n-mine\n+ours\n"},
		{"stale", generator.Action{Path: "st", Fate: generator.Stale}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Diff(); got != tt.want {
				t.Errorf("Diff() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
