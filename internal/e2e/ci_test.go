package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// TestCITrackedFiles runs .ci/tracked-files over throwaway repositories:
// it must pass a clean tree and fail, naming the file, on a tracked ELF
// binary or a file over 1 MiB outside testdata/.
func TestCITrackedFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	script, err := filepath.Abs(".ci/tracked-files")
	if err != nil {
		t.Fatal(err)
	}
	elf, err := os.ReadFile("/proc/self/exe") // this test binary: an ELF file on Linux
	if err != nil || !bytes.HasPrefix(elf, []byte("\x7fELF")) {
		t.Skipf("no ELF binary to commit here: %v", err)
	}
	big := bytes.Repeat([]byte("helios\n"), (1<<20)/7+1)
	tests := []struct {
		name     string
		files    map[string][]byte
		wantFail string // a file the failure must name; "" for a pass
	}{
		{"clean", map[string][]byte{"main.go": []byte("package main\n"), "run.sh": []byte("#!/bin/sh\ntrue\n")}, ""},
		{"big file under testdata", map[string][]byte{"generator/testdata/golden/big.txt": big}, ""},
		{"elf at the root", map[string][]byte{"main.go": []byte("package main\n"), "bench": elf[:4096]}, "bench"},
		{"elf under testdata", map[string][]byte{"testdata/tool": elf[:4096]}, "testdata/tool"},
		{"big file outside testdata", map[string][]byte{"docs/video.mp4": big}, "docs/video.mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			ctx := testdeadline.Context(t)
			for _, args := range [][]string{{"git", "init", "-q"}, {"git", "add", "-A"}} {
				cmd := exec.CommandContext(ctx, args[0], args[1:]...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out)
				}
			}
			cmd := exec.CommandContext(ctx, "bash", script)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			switch {
			case tt.wantFail == "" && err != nil:
				t.Errorf("failed a clean tree: %v\n%s", err, out)
			case tt.wantFail != "" && err == nil:
				t.Errorf("passed a tree that tracks %s:\n%s", tt.wantFail, out)
			case tt.wantFail != "" && !strings.Contains(string(out), ": "+tt.wantFail+"\n"):
				t.Errorf("the failure does not name %s:\n%s", tt.wantFail, out)
			}
		})
	}
}

// TestModuleRootLayout keeps the module root what the README's layout
// says: main.go, the module files, the README, and folders.
func TestModuleRootLayout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	ctx := testdeadline.Context(t)
	out, err := exec.CommandContext(ctx, "git", "ls-files", "--", ":(top)").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	allowed := map[string]bool{"main.go": true, "go.mod": true, "go.sum": true, "README.md": true, ".gitignore": true}
	for name := range strings.Lines(string(out)) {
		name = strings.TrimSpace(name)
		if !strings.Contains(name, "/") && !allowed[name] {
			t.Errorf("the module root tracks %s; only main.go, go.mod, go.sum, README.md and .gitignore belong there", name)
		}
	}
}
