// Package filetree reads a directory tree into memory, for tests that
// compare what a run of helios-scaffold left on disk with what it should.
package filetree

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TempPattern matches the temporary files that helios-scaffold writes
// beside each file before renaming it into place.
const TempPattern = ".helios-scaffold-*.tmp"

// IsTemp reports whether a file name is one of those temporary files.
func IsTemp(name string) bool {
	ok, _ := filepath.Match(TempPattern, name)
	return ok
}

// Read returns the regular files under dir by slash-separated relative
// path, leaving out temporary files. A dir that does not exist is an empty
// tree.
func Read(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipAll
		}
		if err != nil || e.IsDir() || IsTemp(e.Name()) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Temps lists the temporary files under dir.
func Temps(t testing.TB, dir string) []string {
	t.Helper()
	var temps []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipAll
		}
		if err == nil && IsTemp(e.Name()) {
			temps = append(temps, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return temps
}

// Names returns the paths of a tree, sorted.
func Names(m map[string][]byte) []string {
	return slices.Sorted(maps.Keys(m))
}
