package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	for _, d := range []Data{emptyData(), sampleData()} { // the second replaces the first
		if err := Write(path, d); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Render(d)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Render's page", path)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != fileMode {
		t.Errorf("mode %v (%v), want %v", fi.Mode(), err, os.FileMode(fileMode))
	}
	assertOnly(t, dir, "report.html")
}

func TestWriteFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string   // below the test's folder
		left []string // what the folder holds after
	}{
		{"missing folder", "missing/report.html", []string{"full"}},
		{"target is a folder", "full", []string{"full"}}, // the rename over a non-empty folder fails
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "full"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "full", "x"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := Write(filepath.Join(dir, tc.path), sampleData()); err == nil {
				t.Fatalf("Write(%s) succeeded", tc.path)
			}
			assertOnly(t, dir, tc.left...)
			assertOnly(t, filepath.Join(dir, "full"), "x")
		})
	}
}

// assertOnly fails unless dir holds just the named entries: no temporary
// file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
		return
	}
	for i := range got {
		if got[i] != names[i] {
			t.Errorf("%s holds %v, want %v", dir, got, names)
		}
	}
}
