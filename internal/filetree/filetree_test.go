package filetree

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"a.txt":                       "a",
		"sub/b.txt":                   "bb",
		"sub/.helios-scaffold-12.tmp": "partial",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := Read(t, dir)
	if names := Names(got); !slices.Equal(names, []string{"a.txt", "sub/b.txt"}) {
		t.Errorf("Read names = %q", names)
	}
	if string(got["sub/b.txt"]) != "bb" {
		t.Errorf("sub/b.txt = %q", got["sub/b.txt"])
	}
	if temps := Temps(t, dir); len(temps) != 1 || filepath.Base(temps[0]) != ".helios-scaffold-12.tmp" {
		t.Errorf("Temps = %q", temps)
	}
	missing := filepath.Join(dir, "missing")
	if len(Read(t, missing)) != 0 || len(Temps(t, missing)) != 0 {
		t.Error("a missing directory is not an empty tree")
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".helios-scaffold-1.tmp": true,
		"helios-scaffold-1.tmp":  false,
		".helios-scaffold-1.go":  false,
		"template.yaml":          false,
	} {
		if got := IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
