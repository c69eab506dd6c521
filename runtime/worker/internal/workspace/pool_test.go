//go:build linux

package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func names(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A workspace goes back to the pool only while another chunk runs, only
// when the caller says nothing of its chunk is left, and only once it is
// as New made it; the last chunk to end leaves the root empty.
func TestPool(t *testing.T) {
	// victim is what a link left in the workspace points at: emptying
	// the workspace must never reach it.
	victim := t.TempDir()
	kept := filepath.Join(victim, "kept")
	if err := os.WriteFile(kept, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("a file the workspace's link pointed at is gone: %v", err)
		}
	}()
	for _, tc := range []struct {
		name   string
		reuse  bool
		leave  func(ws *Workspace) error // what the first chunk leaves
		pooled bool
	}{
		{"empty", true, func(*Workspace) error { return nil }, true},
		{"output and temporary files emptied", true, func(ws *Workspace) error {
			if err := os.WriteFile(filepath.Join(ws.Work, "out.mp4"), []byte("x"), 0o644); err != nil {
				return err
			}
			return os.MkdirAll(filepath.Join(ws.Tmp, "chromium", "profile"), 0o755)
		}, true},
		{"a link to a folder outside, in tmp: the link is removed, not what it points at", true, func(ws *Workspace) error {
			return os.Symlink(victim, filepath.Join(ws.Tmp, "link"))
		}, true},
		{"caller says a process may be left", false, func(*Workspace) error { return nil }, false},
		{"a download's leftover beside work", true, func(ws *Workspace) error {
			return os.WriteFile(filepath.Join(ws.Base, ".dl-x"), nil, 0o644)
		}, false},
		{"work made readable by others", true, func(ws *Workspace) error { return os.Chmod(ws.Work, 0o755) }, false},
		{"work replaced by a link", true, func(ws *Workspace) error {
			if err := os.Remove(ws.Work); err != nil {
				return err
			}
			return os.Symlink(victim, ws.Work)
		}, false},
		{"too much to empty", true, func(ws *Workspace) error {
			for i := range maxEmptied + 1 {
				if err := os.WriteFile(filepath.Join(ws.Work, "f"+strings.Repeat("x", i)), nil, 0o644); err != nil {
					return err
				}
			}
			return nil
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			p := Pool{off: -1}                   // reuse whatever the file system of the test's root
			other, err := p.Take(root, "job", 9) // runs throughout
			if err != nil {
				t.Fatal(err)
			}
			first, err := p.Take(root, "job", 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.leave(first); err != nil {
				t.Fatal(err)
			}
			if err := p.Give(first, tc.reuse); err != nil {
				t.Fatal(err)
			}
			next, err := p.Take(root, "next", 2)
			if err != nil {
				t.Fatal(err)
			}
			reused := next.lock == first.lock
			if reused != tc.pooled {
				t.Errorf("the next chunk reused the first's workspace: %v, want %v", reused, tc.pooled)
			}
			if !strings.HasPrefix(filepath.Base(next.Base), Prefix+"next-2-") || !next.pristine() || unlocked(next.Base) {
				t.Errorf("the next chunk's workspace %s: want named for it, as New makes one, and locked", next.Base)
			}
			if got := names(t, root); len(got) != 2 {
				t.Errorf("with two chunks running the root holds %v, want their two workspaces", got)
			}
			for _, ws := range []*Workspace{next, other} {
				if err := p.Give(ws, true); err != nil {
					t.Fatal(err)
				}
			}
			if got := names(t, root); len(got) != 0 {
				t.Errorf("once no chunk runs the root holds %v, want nothing", got)
			}
		})
	}
}

// Workspaces in memory are not reused: making them costs less than
// checking old ones.
func TestPoolInMemory(t *testing.T) {
	if !inMemory("/dev/shm") {
		t.Skip("no tmpfs at /dev/shm")
	}
	root, err := os.MkdirTemp("/dev/shm", "helios-pool-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	var p Pool
	other, _ := p.Take(root, "job", 9)
	first, err := p.Take(root, "job", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Give(first, true); err != nil {
		t.Fatal(err)
	}
	if len(p.free) != 0 {
		t.Errorf("a workspace in memory was kept for reuse")
	}
	_ = p.Give(other, true)
	if got := names(t, root); len(got) != 0 {
		t.Errorf("once no chunk runs the root holds %v, want nothing", got)
	}
}
