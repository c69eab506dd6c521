package generator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrConflict is returned by [Plan.Apply] when a file conflicts; nothing
// has been written.
var ErrConflict = errors.New("conflicting files")

// tempPattern names the temporary files written before the renames. A run
// removes those that a killed run left behind.
const tempPattern = ".helios-scaffold-*.tmp"

// Apply writes the plan's creates and updates. It writes nothing when any
// file conflicts. Every file is first written to a temporary file beside
// it, synced and given its mode; only when all are written are they renamed
// into place, the answers file last. A failure before the renames removes
// the temporary files and any directory it made, leaving the tree as it was.
//
// Cancelling ctx before the renames stops the run with nothing written.
func (p *Plan) Apply(ctx context.Context) error {
	if c := p.Conflicts(); len(c) > 0 {
		names := make([]string, len(c))
		for i, a := range c {
			names[i] = a.Path
		}
		return fmt.Errorf("%w, nothing written: %s", ErrConflict, strings.Join(names, ", "))
	}
	p.removeLeftovers()
	writes := p.Changes()
	if len(writes) == 0 {
		return nil
	}
	s := &staging{}
	if err := s.stage(ctx, p.Dir, writes); err != nil {
		s.rollback()
		return err
	}
	pause := renamePause() // test-only, 0 outside tests
	for i, a := range writes {
		if i+1 == pause {
			pauseBeforeRename(i+1, len(writes), a.Path)
		}
		if err := os.Rename(s.temps[i], s.targets[i]); err != nil {
			s.temps = s.temps[i:]
			s.created = nil
			s.rollback()
			return fmt.Errorf("renaming into %s (%d of %d files written): %w", a.Path, i, len(writes), err)
		}
	}
	return nil
}

// staging holds the temporary files and directories a plan has made.
type staging struct {
	temps   []string
	targets []string
	created []string // directories made, outermost first
}

func (s *staging) stage(ctx context.Context, dir string, writes []Action) error {
	for _, a := range writes {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted, nothing written: %w", err)
		}
		target := filepath.Join(dir, filepath.FromSlash(a.Path))
		parent := filepath.Dir(target)
		if err := s.mkdirAll(parent); err != nil {
			return fmt.Errorf("writing %s: %w", a.Path, err)
		}
		tmp, err := writeTemp(parent, a)
		if tmp != "" {
			s.temps = append(s.temps, tmp)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", a.Path, err)
		}
		s.targets = append(s.targets, target)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted, nothing written: %w", err)
	}
	return nil
}

func writeTemp(parent string, a Action) (string, error) {
	f, err := os.CreateTemp(parent, tempPattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(a.New)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(a.Mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), err
}

// mkdirAll makes dir and its missing parents, remembering which it made.
func (s *staging) mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	slices.Reverse(missing)
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil && !os.IsExist(err) {
			return err
		}
		s.created = append(s.created, d)
	}
	return nil
}

func (s *staging) rollback() {
	for _, t := range s.temps {
		os.Remove(t)
	}
	for _, d := range slices.Backward(s.created) {
		os.Remove(d)
	}
}

// removeLeftovers deletes the temporary files that a killed run left in
// the directories of the plan's files.
func (p *Plan) removeLeftovers() {
	dirs := map[string]bool{}
	for _, a := range p.Actions {
		dirs[filepath.Dir(filepath.Join(p.Dir, filepath.FromSlash(a.Path)))] = true
	}
	for dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, tempPattern))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}
