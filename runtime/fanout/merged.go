package fanout

import (
	"path/filepath"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// MergedName is the merged video as the mergeCommand names it (relative
// to the folder it runs in): the one video file, by its extension
// ([VideoExts]), that the mergeCommand names and that no chunk's command
// nor outputFile does; "" when there is not exactly one. A word names a
// file when it is an argument of the command, or a part of one between
// spaces, quotes, ';', '&', '|', '<', '>' and parentheses (the merge may
// be `sh -c '... > out.mp4'`), and a relative path that stays inside the
// folder.
func (j *Job) MergedName() string {
	used := map[string]bool{}
	for _, c := range j.Spec.Chunks {
		for _, w := range CommandWords(c.Command) {
			used[w] = true
		}
		used[c.OutputFile] = true
	}
	var found []string
	for _, w := range CommandWords(j.Spec.MergeCommand) {
		if !used[w] && filepath.IsLocal(w) && VideoExts[strings.ToLower(filepath.Ext(w))] {
			found = append(found, w)
			used[w] = true
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// MergedFile is [Job.MergedName] in dir, the folder the merge runs in;
// "" when the mergeCommand names no one video file that the chunks do
// not.
func (j *Job) MergedFile(dir string) string {
	name := j.MergedName()
	if name == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

// CommandWords are the words of command that may name files: its argv,
// and the parts of each argument between the characters a shell would
// separate words at (the words of a script that "sh -c" runs). A command
// that does not split names none.
func CommandWords(command string) []string {
	argv, err := jobspec.SplitCommand(command)
	if err != nil {
		return nil
	}
	var words []string
	for _, a := range argv {
		words = append(words, strings.FieldsFunc(a, func(r rune) bool {
			return strings.ContainsRune(" \t\n;&|<>()'\"`", r)
		})...)
	}
	return words
}
