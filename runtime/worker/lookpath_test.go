package worker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// WithEnv's entries reach every chunk over the worker's own, and a PATH
// among them is where the command's executable is found: a project's
// node_modules/.bin, which the worker's own PATH lacks.
func TestWithEnv(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "helios-stub"), []byte("#!/bin/sh\necho stub \"$1\" \"$RUN_MARK\"\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "not-executable"), []byte("#!/bin/sh\n"), 0o644)
	t.Setenv("RUN_MARK", "the worker's")
	cfg := testConfig(t)
	spec := jobspec.Spec{Chunks: []jobspec.Chunk{{ID: 0, Command: "helios-stub render"}, {ID: 1, Command: "not-executable"}}}
	path := writeSpec(t, spec)
	w := newWorker(cfg, worker.WithEnv("RUN_MARK=the run's", "PATH="+bin+":"+os.Getenv("PATH")))
	r := w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: 0})
	if !r.OK() || string(r.Stdout) != "stub render the run's\n" {
		t.Fatalf("Run = %+v, stdout %q, stderr %q", r, r.Stdout, r.Stderr)
	}
	r = w.Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: 1})
	if r.Started || r.Kind() != worker.KindCommand || !strings.Contains(r.Message(), "executable file not found") {
		t.Errorf("a file that may not be run: %+v, kind %q, message %q", r, r.Kind(), r.Message())
	}
	// Without the option, the worker's PATH has no helios-stub.
	r = newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: path, ChunkIndex: 0})
	if r.Started || r.Kind() != worker.KindCommand {
		t.Errorf("without WithEnv: %+v, kind %q", r, r.Kind())
	}
}

func TestLookPathIn(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.Mkdir(filepath.Join(bin, "dir"), 0o755)
	for _, tt := range []struct{ file, path, want string }{
		{"tool", "/nonexistent:" + bin, filepath.Join(bin, "tool")},
		{"tool", "relative:" + bin, filepath.Join(bin, "tool")},
		{"tool", "/nonexistent", "tool"},
		{"dir", bin, "dir"},
		{"./tool", bin, "./tool"},
		{"/bin/sh", bin, "/bin/sh"},
	} {
		if got := worker.LookPathIn(tt.file, tt.path); got != tt.want {
			t.Errorf("LookPathIn(%q, %q) = %q, want %q", tt.file, tt.path, got, tt.want)
		}
	}
}

// LookPathEnv takes the last PATH among the entries, as exec's
// environment does, and leaves file to exec without one.
func TestLookPathEnv(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755)
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"PATH=/nonexistent", "X=1", "PATH=" + bin}, filepath.Join(bin, "tool")},
		{[]string{"PATH=" + bin, "PATH=/nonexistent"}, "tool"},
		{[]string{"X=1"}, "tool"},
		{nil, "tool"},
	} {
		if got := worker.LookPathEnv("tool", tt.env); got != tt.want {
			t.Errorf("LookPathEnv(tool, %q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}
