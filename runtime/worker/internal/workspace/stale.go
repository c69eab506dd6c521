package workspace

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// staleName matches the workspaces that New makes (helios-JOB-
// CHUNK-RANDOM), and the same with a leading dot while one is being made.
// The asset cache's folder, helios-cache, does not match.
var staleName = regexp.MustCompile(`^\.?` + regexp.QuoteMeta(Prefix) + `.*-[0-9]+-[0-9]+$`)

// makingAge is how old a workspace still being made (its name starts with
// a dot, for the few system calls until it is locked) must be before it is
// taken for a dead worker's.
const makingAge = time.Minute

// RemoveStale removes the workspaces below root that a worker killed
// before it could remove them left (a Lambda hard timeout, an instance
// killed for memory): those of New's naming that no live chunk
// holds locked. Nothing else below root is touched. It returns the names
// it removed.
func RemoveStale(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !staleName.MatchString(name) {
			continue
		}
		if strings.HasPrefix(name, ".") {
			if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < makingAge {
				continue
			}
		}
		dir := filepath.Join(root, name)
		if !unlocked(dir) {
			continue
		}
		ws := &Workspace{Base: dir}
		if ws.Remove() == nil {
			removed = append(removed, name)
		}
	}
	return removed
}
