package generator_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// mergeCases are the corpus of the merge tests: base is what
// helios-scaffold last wrote, ours the user's file, theirs the new render.
var mergeCases = []struct {
	name               string
	base, ours, theirs string
	want               string // the clean result; "" when it conflicts
	conflicts          []generator.LineRange
}{
	{name: "user adds a line, render changes another",
		base: "a\nb\nc\nd\ne\n", ours: "a\nb\nuser\nc\nd\ne\n", theirs: "a\nb\nc\nd\nE\n",
		want: "a\nb\nuser\nc\nd\nE\n"},
	{name: "render unchanged", base: "a\nb\n", ours: "a\nmine\nb\n", theirs: "a\nb\n", want: "a\nmine\nb\n"},
	{name: "same change on both sides", base: "a\nb\n", ours: "a\nB\n", theirs: "a\nB\n", want: "a\nB\n"},
	{name: "edit at the start and at the end",
		base: "first\nmiddle\nlast\n", ours: "# mine\nfirst\nmiddle\nlast\n", theirs: "first\nmiddle\nlast\nappended\n",
		want: "# mine\nfirst\nmiddle\nlast\nappended\n"},
	{name: "overlapping edits conflict",
		base: "a\nmemory: 3008\nc\n", ours: "a\nmemory: 5000\nc\n", theirs: "a\nmemory: 4096\nc\n",
		conflicts: []generator.LineRange{{2, 6}}},
	// git joins conflicts three lines apart into one; these are not.
	{name: "two conflicts",
		base: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", ours: "1\nX\n3\n4\n5\n6\n7\nY\n9\n", theirs: "1\nx\n3\n4\n5\n6\n7\ny\n9\n",
		conflicts: []generator.LineRange{{2, 6}, {12, 16}}},
	{name: "CRLF files", base: "a\r\nb\r\nc\r\n", ours: "a\r\nmine\r\nb\r\nc\r\n", theirs: "a\r\nb\r\nC\r\n",
		want: "a\r\nmine\r\nb\r\nC\r\n"},
	{name: "no final newline", base: "a\nb\nc", ours: "mine\na\nb\nc", theirs: "a\nb\nC",
		want: "mine\na\nb\nC"},
	{name: "user emptied the file", base: "a\nb\nc\n", ours: "", theirs: "a\nb\nC\n",
		conflicts: []generator.LineRange{{1, 6}}},
	{name: "user emptied it, render unchanged", base: "a\nb\n", ours: "", theirs: "a\nb\n", want: ""},
}

func TestMerge3(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	for _, tc := range mergeCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := generator.Merge3(t.Context(), []byte(tc.ours), []byte(tc.base), []byte(tc.theirs))
			if err != nil {
				t.Fatal(err)
			}
			if want := gitMergeFile(t, tc.ours, tc.base, tc.theirs); !bytes.Equal(m.Data, want) {
				t.Errorf("Merge3 =\n%q\ngit merge-file =\n%q", m.Data, want)
			}
			if !slices.Equal(m.Conflicts, tc.conflicts) {
				t.Errorf("conflicts %v, want %v:\n%s", m.Conflicts, tc.conflicts, m.Data)
			}
			if tc.conflicts == nil && string(m.Data) != tc.want {
				t.Errorf("merged %q, want %q", m.Data, tc.want)
			}
			if tc.conflicts != nil {
				// Nothing lost: every line of ours and theirs is in the result.
				for _, side := range []string{tc.ours, tc.theirs} {
					for l := range strings.Lines(side) {
						if !strings.Contains(string(m.Data), strings.TrimRight(l, "\n")) {
							t.Errorf("line %q is lost:\n%s", l, m.Data)
						}
					}
				}
			}
		})
	}
}

// gitMergeFile is git merge-file itself, run on the three sides with the
// labels helios-scaffold gives them.
func gitMergeFile(t *testing.T, ours, base, theirs string) []byte {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for i, data := range []string{ours, base, theirs} {
		name := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	cmd := exec.Command("git", "merge-file", "-p", "-L", "yours", "-L", "as helios-scaffold last wrote it",
		"-L", "helios-scaffold's new render", names[0], names[1], names[2])
	out, err := cmd.Output()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.ExitCode() > 0 && ee.ExitCode() < 128 {
		err = nil
	}
	if err != nil {
		t.Fatalf("git merge-file: %v", err)
	}
	return out
}

func TestConflictRanges(t *testing.T) {
	data := "a\n<<<<<<< yours\nx\n=======\ny\n>>>>>>> new\nb\n<<<<<<<\nz\n>>>>>>>\n"
	got := generator.ConflictRanges([]byte(data))
	if want := []generator.LineRange{{2, 6}, {8, 10}}; !slices.Equal(got, want) {
		t.Errorf("ConflictRanges = %v, want %v", got, want)
	}
	if got := generator.ConflictRanges([]byte("<<<<<<<< eight\n>>>>>>> \n")); len(got) != 0 {
		t.Errorf("a line of eight < is not a marker: %v", got)
	}
}
