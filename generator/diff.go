package generator

import udiff "github.com/aymanbagabas/go-udiff"

// Diff returns the unified diff that applying the action makes, or "" when
// it writes nothing. For a file that is kept (skip-edited) or stops the run
// (conflict), it is the diff that --force would apply.
func (a Action) Diff() string {
	switch a.Fate {
	case Create, Update, Merge, MergeConflict:
		from := "a/" + a.Path
		if a.Old == nil {
			from = "/dev/null"
		}
		return udiff.Unified(from, "b/"+a.Path, string(a.Old), string(a.New))
	case SkipEdited, Conflict:
		return udiff.Unified("a/"+a.Path+" (on disk)", "b/"+a.Path+" (generated; --force writes it)", string(a.Old), string(a.New))
	}
	return ""
}
