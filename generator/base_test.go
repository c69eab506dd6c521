package generator_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// A base from each lookup, and none: the same version's render of the
// recorded inputs; the file's git history when that render differs (the
// templates changed without a version, or the answers were edited); and
// nothing, when neither has what was last written.
func TestMergeBaseLookups(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("merging needs git")
	}
	tests := []struct {
		name string
		// prepare changes the scaffolded tree before the edit: it returns
		// the answers that the next plan reads.
		prepare  func(t *testing.T, dir string, a *generator.Answers) *generator.Answers
		wantFate generator.Fate
		wantFrom string
	}{
		{"same version", func(t *testing.T, dir string, a *generator.Answers) *generator.Answers { return a },
			generator.Merge, "from a render of the recorded inputs"},
		{"git history", func(t *testing.T, dir string, a *generator.Answers) *generator.Answers {
			commitAll(t, dir)
			a.Inputs.TimeoutSeconds = 600 // the recorded inputs no longer render what was written
			return a
		}, generator.Merge, "from the file's git history"},
		{"no base", func(t *testing.T, dir string, a *generator.Answers) *generator.Answers {
			a.Inputs.TimeoutSeconds = 600
			return a
		}, generator.SkipEdited, "no copy of what it last wrote was found"},
		{"an older version, not in the module cache", func(t *testing.T, dir string, a *generator.Answers) *generator.Answers {
			a.Version = "v0.0.1-no-such-version"
			return a
		}, generator.SkipEdited, "helios-scaffold v0.0.1-no-such-version render"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := farmInputs()
			a := scaffold(t, dir, in, nil, generator.Options{})
			prev := tc.prepare(t, dir, a)
			putFile(t, dir, "template.yaml", strings.Replace(fileText(t, dir, "template.yaml"),
				"      Description: Runs", "      Tags:\n        team: video\n      Description: Runs", 1))
			in.MemoryMB = 4096
			p := planDir(t, dir, in, prev, generator.Options{})
			act := actionFor(t, p, "template.yaml")
			if act.Fate != tc.wantFate || !strings.Contains(act.Note, tc.wantFrom) {
				t.Fatalf("template.yaml: %s (%s), want %s %s", act.Fate, act.Note, tc.wantFate, tc.wantFrom)
			}
			if act.Fate != generator.Merge {
				return
			}
			if err := p.Apply(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := fileText(t, dir, "template.yaml")
			if !strings.Contains(got, "        team: video\n") || !strings.Contains(got, "MemorySize: 4096") {
				t.Errorf("merged template.yaml lacks the edit or the new input:\n%s", got)
			}
			next, err := generator.ReadAnswers(dir)
			if err != nil {
				t.Fatal(err)
			}
			if want := generator.Hash(renderInputs(t, in)["template.yaml"].Data); next.Files["template.yaml"] != want {
				t.Errorf("the answers record %s for the merged file, want the render's %s", next.Files["template.yaml"], want)
			}
		})
	}
}

func commitAll(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q"}, {"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "scaffold"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}
