package generator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

const testVersion = "v1.2.3"

// farmInputs are AWS inputs for a worker named worker in a new module.
func farmInputs() generator.Inputs {
	in := validInputs(generator.AWS)
	in.Name, in.Module = "worker", "example.com/farm"
	return in
}

func renderInputs(t *testing.T, in generator.Inputs) map[string]generator.File {
	t.Helper()
	files, err := generator.Render(in)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return files
}

func planDir(t *testing.T, dir string, in generator.Inputs, prev *generator.Answers, opt generator.Options) *generator.Plan {
	t.Helper()
	p, err := generator.NewPlan(context.Background(), dir, renderInputs(t, in), in, prev, testVersion, opt)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// scaffold plans and applies in in dir and returns the answers written.
func scaffold(t *testing.T, dir string, in generator.Inputs, prev *generator.Answers, opt generator.Options) *generator.Answers {
	t.Helper()
	if err := planDir(t, dir, in, prev, opt).Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	a, err := generator.ReadAnswers(dir)
	if err != nil || a == nil {
		t.Fatalf("ReadAnswers after Apply = %v, %v", a, err)
	}
	return a
}

func putFile(t *testing.T, dir, name, data string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileText(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func actionFor(t *testing.T, p *generator.Plan, name string) generator.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Path == name {
			return a
		}
	}
	t.Fatalf("no action for %s in the plan", name)
	return generator.Action{}
}

// nextAnswers parses the answers that applying p writes.
func nextAnswers(t *testing.T, p *generator.Plan) *generator.Answers {
	t.Helper()
	last := p.Actions[len(p.Actions)-1]
	if last.Path != generator.AnswersFile {
		t.Fatalf("the last action is %s, not the answers file", last.Path)
	}
	a, err := generator.ParseAnswers(last.New)
	if err != nil {
		t.Fatalf("the planned answers do not parse: %v", err)
	}
	return a
}

func TestPlanFresh(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "new", "repo")} {
		in := farmInputs()
		files := renderInputs(t, in)
		p := planDir(t, dir, in, nil, generator.Options{})
		var want []string
		for name := range files {
			want = append(want, name)
		}
		want = append(want, "go.mod")
		slices.Sort(want)
		want = append(want, generator.AnswersFile)
		var got []string
		for _, a := range p.Actions {
			got = append(got, a.Path)
			if a.Fate != generator.Create || a.Old != nil || a.New == nil {
				t.Errorf("%s: fate %s (old %v), want create", a.Path, a.Fate, a.Old != nil)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("actions %q, want %q", got, want)
		}
		if len(p.Changes()) != len(p.Actions) || len(p.Conflicts()) != 0 || len(p.Notes) != 0 {
			t.Errorf("changes %d of %d, conflicts %d, notes %q", len(p.Changes()), len(p.Actions), len(p.Conflicts()), p.Notes)
		}
		next := nextAnswers(t, p)
		if next.Version != testVersion || !reflect.DeepEqual(next.Inputs, in) || len(next.Files) != len(files) {
			t.Errorf("planned answers %+v", next)
		}
		for name, f := range files {
			if next.Files[name] != generator.Hash(f.Data) {
				t.Errorf("recorded hash of %s = %s, want the hash of the rendered file", name, next.Files[name])
			}
		}
		if _, err := os.Stat(dir); err == nil && len(mustReadDir(t, dir)) != 0 {
			t.Errorf("NewPlan wrote into %s", dir)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestPlanFates(t *testing.T) {
	const (
		mainGo   = "cmd/worker/main.go"
		workerGo = "cmd/worker/worker.go"
		yaml     = "template.yaml"
	)
	tests := []struct {
		name string
		// setup changes the scaffolded repository and returns the inputs
		// and options of the next run.
		setup     func(t *testing.T, dir string) (generator.Inputs, generator.Options)
		fates     map[string]generator.Fate
		unchanged bool // every file not in fates is unchanged
		keepHash  []string
		notes     map[string]string
	}{
		{
			name: "re-plan",
			setup: func(*testing.T, string) (generator.Inputs, generator.Options) {
				return farmInputs(), generator.Options{}
			},
			unchanged: true,
		},
		{
			name: "edited tool file",
			setup: func(t *testing.T, dir string) (generator.Inputs, generator.Options) {
				putFile(t, dir, mainGo, "package main // mine\n")
				return farmInputs(), generator.Options{}
			},
			fates: map[string]generator.Fate{mainGo: generator.SkipEdited}, unchanged: true, keepHash: []string{mainGo},
			notes: map[string]string{mainGo: "edited since helios-scaffold wrote it"},
		},
		{
			name: "edited tool file with force",
			setup: func(t *testing.T, dir string) (generator.Inputs, generator.Options) {
				putFile(t, dir, mainGo, "package main // mine\n")
				return farmInputs(), generator.Options{Force: true}
			},
			fates: map[string]generator.Fate{mainGo: generator.Update}, unchanged: true,
			notes: map[string]string{mainGo: "--force"},
		},
		{
			name: "edited user file",
			setup: func(t *testing.T, dir string) (generator.Inputs, generator.Options) {
				putFile(t, dir, workerGo, "package main // my work\n")
				return farmInputs(), generator.Options{}
			},
			fates: map[string]generator.Fate{workerGo: generator.Unchanged}, unchanged: true, keepHash: []string{workerGo},
			notes: map[string]string{workerGo: "never rewritten"},
		},
		{
			name: "edited user file with force",
			setup: func(t *testing.T, dir string) (generator.Inputs, generator.Options) {
				putFile(t, dir, workerGo, "package main // my work\n")
				return farmInputs(), generator.Options{Force: true}
			},
			fates: map[string]generator.Fate{workerGo: generator.Unchanged}, unchanged: true, keepHash: []string{workerGo},
		},
		{
			name: "missing tool file",
			setup: func(t *testing.T, dir string) (generator.Inputs, generator.Options) {
				if err := os.Remove(filepath.Join(dir, filepath.FromSlash(mainGo))); err != nil {
					t.Fatal(err)
				}
				return farmInputs(), generator.Options{}
			},
			fates: map[string]generator.Fate{mainGo: generator.Create}, unchanged: true,
		},
		{
			name: "new input rewrites unedited tool files",
			setup: func(*testing.T, string) (generator.Inputs, generator.Options) {
				in := farmInputs()
				in.TimeoutSeconds = 600
				return in, generator.Options{}
			},
			fates: map[string]generator.Fate{yaml: generator.Update, generator.AnswersFile: generator.Update}, unchanged: true,
		},
		{
			name: "name change",
			setup: func(*testing.T, string) (generator.Inputs, generator.Options) {
				in := farmInputs()
				in.Name = "renamed"
				return in, generator.Options{}
			},
			fates: map[string]generator.Fate{
				mainGo: generator.Stale, workerGo: generator.Stale, generator.AnswersFile: generator.Update,
				"cmd/renamed/main.go": generator.Create, "cmd/renamed/worker.go": generator.Create,
				// They name the function, and the stack.
				yaml: generator.Update, "Dockerfile": generator.Update, "samconfig.toml": generator.Update,
			},
			unchanged: true,
			notes:     map[string]string{mainGo: "no longer generated"},
		},
		{
			name: "target switched with force",
			setup: func(*testing.T, string) (generator.Inputs, generator.Options) {
				in := validInputs(generator.CloudRun)
				in.Name = "worker"
				return in, generator.Options{Force: true}
			},
			fates: map[string]generator.Fate{
				yaml: generator.Stale, "samconfig.toml": generator.Stale, "service.yaml": generator.Create, mainGo: generator.Update,
				workerGo: generator.Unchanged, "Dockerfile": generator.Update, ".dockerignore": generator.Unchanged,
				"go.mod": generator.Unchanged, generator.AnswersFile: generator.Update,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prev := scaffold(t, dir, farmInputs(), nil, generator.Options{})
			in, opt := tt.setup(t, dir)
			p := planDir(t, dir, in, prev, opt)
			for _, a := range p.Actions {
				want, ok := tt.fates[a.Path]
				if !ok && tt.unchanged {
					want = generator.Unchanged
				}
				if a.Fate != want {
					t.Errorf("%s: fate %s, want %s", a.Path, a.Fate, want)
				}
				if n := tt.notes[a.Path]; !strings.Contains(a.Note, n) {
					t.Errorf("%s: note %q, want %q", a.Path, a.Note, n)
				}
			}
			if tt.unchanged && len(tt.fates) == 0 && len(p.Changes()) != 0 {
				t.Errorf("re-plan has %d changes", len(p.Changes()))
			}
			next := nextAnswers(t, p)
			for _, name := range tt.keepHash {
				if next.Files[name] != prev.Files[name] {
					t.Errorf("%s: recorded hash %s, want the previous %s", name, next.Files[name], prev.Files[name])
				}
			}

			// Applying the plan and planning again changes nothing more, and
			// kept edits stay detected.
			if err := p.Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			again := planDir(t, dir, in, next, opt)
			for _, a := range again.Actions {
				want := generator.Unchanged
				if f := tt.fates[a.Path]; f == generator.SkipEdited || f == generator.Stale {
					want = f
				}
				if a.Fate != want {
					t.Errorf("after Apply, %s: fate %s, want %s", a.Path, a.Fate, want)
				}
			}
		})
	}
}

func TestPlanUserFileNeverRewritten(t *testing.T) {
	dir := t.TempDir()
	prev := scaffold(t, dir, farmInputs(), nil, generator.Options{})
	const mine = "package main // my work\n"
	putFile(t, dir, "cmd/worker/worker.go", mine)
	scaffold(t, dir, farmInputs(), prev, generator.Options{Force: true})
	if got := fileText(t, dir, "cmd/worker/worker.go"); got != mine {
		t.Errorf("worker.go after a forced run:\n%s\nwant the user's:\n%s", got, mine)
	}
}

func TestPlanExistingFiles(t *testing.T) {
	in := farmInputs()
	files := renderInputs(t, in)
	dir := t.TempDir()
	putFile(t, dir, "template.yaml", "# mine\n")
	putFile(t, dir, "Dockerfile", string(files["Dockerfile"].Data))

	p := planDir(t, dir, in, nil, generator.Options{})
	if a := actionFor(t, p, "template.yaml"); a.Fate != generator.Conflict || a.Note == "" || string(a.Old) != "# mine\n" {
		t.Errorf("a file that is not ours: fate %s, note %q, want conflict", a.Fate, a.Note)
	}
	if c := p.Conflicts(); len(c) != 1 || c[0].Path != "template.yaml" {
		t.Errorf("Conflicts() = %v, want template.yaml alone", c)
	}
	if a := actionFor(t, p, "Dockerfile"); a.Fate != generator.Unchanged {
		t.Errorf("an identical file not ours: fate %s, want unchanged", a.Fate)
	}
	next := nextAnswers(t, p)
	if h := next.Files["Dockerfile"]; h != generator.Hash(files["Dockerfile"].Data) {
		t.Errorf("an adopted file is recorded as %s, want its hash", h)
	}
	if h, ok := next.Files["template.yaml"]; ok {
		t.Errorf("a conflicting file is recorded as %q, want it not recorded", h)
	}

	forced := planDir(t, dir, in, nil, generator.Options{Force: true})
	if a := actionFor(t, forced, "template.yaml"); a.Fate != generator.Update || !strings.Contains(a.Note, "--force") {
		t.Errorf("with --force, a file that is not ours: fate %s, note %q; want update", a.Fate, a.Note)
	}
}

func TestPlanTargetMismatch(t *testing.T) {
	dir := t.TempDir()
	prev := scaffold(t, dir, farmInputs(), nil, generator.Options{})
	cr := validInputs(generator.CloudRun)
	_, err := generator.NewPlan(context.Background(), dir, renderInputs(t, cr), cr, prev, testVersion, generator.Options{})
	if !errors.Is(err, generator.ErrTargetMismatch) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("NewPlan for cloudrun over aws = %v, want ErrTargetMismatch suggesting --force", err)
	}
}

func TestPlanDirIsFile(t *testing.T) {
	dir := t.TempDir()
	putFile(t, dir, "repo", "not a directory\n")
	in := farmInputs()
	for _, target := range []string{"repo", "repo/sub"} {
		_, err := generator.NewPlan(context.Background(), filepath.Join(dir, target), renderInputs(t, in), in, nil, testVersion, generator.Options{})
		if !errors.Is(err, generator.ErrInput) || !strings.Contains(err.Error(), "--dir") {
			t.Errorf("NewPlan into %s, below a regular file = %v, want an ErrInput about --dir", target, err)
		}
	}
}

func TestPlanEditsGoMod(t *testing.T) {
	dir := t.TempDir()
	putFile(t, dir, "go.mod", otherGoMod)
	in := farmInputs()
	in.Module = ""
	p := planDir(t, dir, in, nil, generator.Options{})
	a := actionFor(t, p, "go.mod")
	if a.Fate != generator.Update || string(a.Old) != otherGoMod || !strings.Contains(string(a.New), "rsc.io/quote v1.5.2") {
		t.Fatalf("go.mod: fate %s, want update keeping its lines:\n%s", a.Fate, a.New)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "raised the go line") {
		t.Errorf("notes %q, want the raised go line", p.Notes)
	}
	if m := nextAnswers(t, p).Inputs.Module; m != "example.com/farm" {
		t.Errorf("recorded module %q, want go.mod's example.com/farm", m)
	}
	if err := p.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fileText(t, dir, "go.mod"); got != string(a.New) {
		t.Errorf("go.mod after Apply:\n%s\nwant:\n%s", got, a.New)
	}

	// A go.mod that does not parse stops the plan.
	putFile(t, dir, "go.mod", "module (\n")
	if _, err := generator.NewPlan(context.Background(), dir, renderInputs(t, in), in, nil, testVersion, generator.Options{}); !errors.Is(err, generator.ErrBadGoMod) {
		t.Errorf("NewPlan with a broken go.mod = %v, want ErrBadGoMod", err)
	}
}

// TestPlanRenameBackKeepsUserFile: a user file stays the user's across a
// rename and back, even with Force, because stale files stay recorded.
func TestPlanRenameBackKeepsUserFile(t *testing.T) {
	dir := t.TempDir()
	in := farmInputs()
	answers := scaffold(t, dir, in, nil, generator.Options{})
	const edited = "package main\n\n// the user's own code\n"
	putFile(t, dir, "cmd/worker/worker.go", edited)

	renamed := in
	renamed.Name = "renamed"
	answers = scaffold(t, dir, renamed, answers, generator.Options{})
	if _, ok := answers.Files["cmd/worker/worker.go"]; !ok {
		t.Fatal("the stale user file was dropped from the answers")
	}
	again := planDir(t, dir, renamed, answers, generator.Options{})
	for _, a := range again.Actions {
		if a.Path == "cmd/worker/worker.go" && a.Fate != generator.Stale {
			t.Errorf("second run: %s is %s, want stale", a.Path, a.Fate)
		}
	}
	scaffold(t, dir, in, answers, generator.Options{Force: true})
	if got := fileText(t, dir, "cmd/worker/worker.go"); got != edited {
		t.Errorf("worker.go after renaming back with Force:\n%s\nwant the user's:\n%s", got, edited)
	}
}
