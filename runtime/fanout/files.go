package fanout

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// A File is one file of a project folder, as the workers will see it.
type File struct {
	Rel  string // slash-separated, relative to the folder
	Size int64
}

// FileSet is the files of a project folder that a job's workers need.
type FileSet struct {
	Dir   string
	Files []File // in lexical order
	Bytes int64
}

// alwaysLeftOut are folders that no worker needs: a project's installed
// packages (the worker image brings its own) and its repository.
var alwaysLeftOut = map[string]bool{"node_modules": true, ".git": true}

// SelectFiles walks the project folder dir and returns the regular files
// that the workers need: all of them except those below node_modules/ or
// .git/, those that a .gitignore in dir (or a folder below it) ignores,
// those named in skip (slash-separated, relative to dir: the spec's own
// outputs, the spec, the state file), and those that an exclude pattern
// matches (gitignore syntax: "*.psd", "raw/", "/draft.html"). Links,
// sockets and devices are left out, as the workers' file:// listing
// leaves them out.
func SelectFiles(dir string, skip map[string]bool, exclude []string) (*FileSet, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("reading project folder %s: %w", dir, err)
	}
	var extra []gitignore.Pattern
	for _, e := range exclude {
		extra = append(extra, gitignore.ParsePattern(e, nil))
	}
	var ignored []gitignore.Pattern
	matches := func(parts []string, isDir bool) bool {
		return gitignore.NewMatcher(append(ignored[:len(ignored):len(ignored)], extra...)).Match(parts, isDir)
	}
	set := &FileSet{Dir: root}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			ignored, err = readGitignore(p, nil)
			return err
		}
		parts := strings.Split(rel, "/")
		if d.IsDir() {
			if alwaysLeftOut[d.Name()] || matches(parts, true) {
				return filepath.SkipDir
			}
			more, err := readGitignore(p, parts)
			ignored = append(ignored, more...)
			return err
		}
		if !d.Type().IsRegular() || skip[rel] || matches(parts, false) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		set.Files = append(set.Files, File{Rel: rel, Size: info.Size()})
		set.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading project folder %s: %w", dir, err)
	}
	return set, nil
}

// readGitignore parses dir's .gitignore, if it has one; domain is dir's
// path below the project folder.
func readGitignore(dir string, domain []string) ([]gitignore.Pattern, error) {
	f, err := os.Open(filepath.Join(dir, ".gitignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps, sc.Err()
}
