package generator

import udiff "github.com/aymanbagabas/go-udiff"

// Diff returns the unified diff that applying the action makes, or "" when
// it writes nothing.
func (a Action) Diff() string {
	if a.Fate != Create && a.Fate != Update {
		return ""
	}
	from := "a/" + a.Path
	if a.Old == nil {
		from = "/dev/null"
	}
	return udiff.Unified(from, "b/"+a.Path, string(a.Old), string(a.New))
}
