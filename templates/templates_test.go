package templates

import (
	"io/fs"
	"path"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// TestManifestCoversTemplates: every template is listed for some target,
// every listed one parses, and both targets have an entry point and a
// user-owned companion.
func TestManifestCoversTemplates(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for target, entries := range m {
		owners := map[Owner]int{}
		for _, e := range entries {
			listed[e.Template] = true
			owners[e.Owner]++
			if _, err := Parse(e.Template, sprig.TxtFuncMap()); err != nil {
				t.Errorf("%s: %v", e.Template, err)
			}
		}
		if owners[Tool] == 0 || owners[User] == 0 {
			t.Errorf("target %s has owners %v, want both tool and user files", target, owners)
		}
	}
	if len(m) != 2 {
		t.Errorf("manifest has targets %v, want aws and cloudrun", m)
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != "manifest.json" && !listed[p] && path.Dir(p) != partialsDir {
			t.Errorf("%s is embedded but in no target of the manifest", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
