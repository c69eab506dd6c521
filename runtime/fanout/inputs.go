package fanout

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Inputs are the project files that a job's outputs are rendered from,
// each as "SIZE sha256:HEX" by its slash-separated path in the project
// folder. A state file is bound to them: a change renders every chunk
// again.
type Inputs map[string]string

// HashInputs reads every file of set and returns what it holds. A nil
// set has no inputs.
func HashInputs(ctx context.Context, set *FileSet) (Inputs, error) {
	if set == nil {
		return nil, nil
	}
	in := make(Inputs, len(set.Files))
	var mu sync.Mutex
	err := forEach(ctx, set.Files, 4, func(ctx context.Context, f File) error {
		sum, n, err := hashFile(filepath.Join(set.Dir, filepath.FromSlash(f.Rel)))
		if err != nil {
			return fmt.Errorf("reading project file %s: %w", f.Rel, err)
		}
		mu.Lock()
		in[f.Rel] = fmt.Sprintf("%d sha256:%s", n, sum)
		mu.Unlock()
		return nil
	})
	return in, err
}

// hashFile returns the hex SHA-256 of the file at name and its size.
func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return hashReader(f)
}

// Diff says how in differs from now, the inputs of this run, in a few
// words ("composition.html changed, logo.png added and 2 more"); "" when
// they are the same.
func (in Inputs) Diff(now Inputs) string {
	var changes []string
	names := maps.Clone(in)
	maps.Copy(names, now)
	for _, name := range slices.Sorted(maps.Keys(names)) {
		was, had := in[name]
		is, has := now[name]
		switch {
		case !had:
			changes = append(changes, name+" added")
		case !has:
			changes = append(changes, name+" removed")
		case was != is:
			changes = append(changes, name+" changed")
		}
	}
	if len(changes) > 3 {
		changes = append(changes[:3], fmt.Sprintf("%d more", len(changes)-3))
	}
	return strings.Join(changes, ", ")
}
