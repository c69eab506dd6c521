package worker_test

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Before its first chunk, a worker removes the workspaces that a killed
// worker left under its root, and nothing else: not a live chunk's (which
// holds its workspace locked), not one being made, not the asset cache,
// not what has another name.
func TestStaleWorkspacesRemoved(t *testing.T) {
	cfg := testConfig(t)
	root := cfg.WorkspaceRoot
	old := time.Now().Add(-2 * time.Minute)
	for _, d := range []string{
		"helios-job-42-0-1234567/work/sub", "helios-job-42-0-1234567/tmp", // dead: removed
		".helios-job-42-1-7654321",                // being made for two minutes: dead, removed
		".helios-job-42-2-5555555",                // being made now: kept
		"helios-live-3-9999999/work",              // locked by a live chunk: kept
		"helios-cache/p-1",                        // the asset cache: kept
		"helios-notes", "helios-a-b", "other-1-2", // other names: kept
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "helios-job-42-0-1234567/work/sub/frame.png"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "helios-job-42-0-1234567/work/sub"), 0o500); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(root, ".helios-job-42-1-7654321"), old, old); err != nil {
		t.Fatal(err)
	}
	live, err := os.Open(filepath.Join(root, "helios-live-3-9999999"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := syscall.Flock(int(live.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	if r := runChunk(t, cfg, "true"); !r.OK() {
		t.Fatalf("Run = %+v", r)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{".helios-job-42-2-5555555", "helios-a-b", "helios-cache", "helios-live-3-9999999", "helios-notes", "other-1-2"}
	if !slices.Equal(names, want) {
		t.Errorf("root holds %q after the first chunk, want %q", names, want)
	}
}
