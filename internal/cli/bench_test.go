package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchInitArgs are the arguments of init aws into dir, with no network
// needed: the runtime is replaced by a path that go.mod only records.
func benchInitArgs(dir string) []string {
	return []string{"init", "aws", "--dir", dir, "--module", "example.com/bench", "--replace-runtime", "../helios"}
}

// benchRun runs the CLI in process and fails the benchmark unless it exits 0.
func benchRun(b *testing.B, args ...string) {
	var stderr bytes.Buffer
	if code := Run(context.Background(), args, io.Discard, &stderr); code != exitOK {
		b.Fatalf("helios-scaffold %v: exit %d\n%s", args, code, stderr.String())
	}
}

// BenchmarkInit is init aws into a fresh directory: render, plan, write
// seven files (synced, then renamed into place).
func BenchmarkInit(b *testing.B) {
	base := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		benchRun(b, benchInitArgs(filepath.Join(base, strconv.Itoa(i)))...)
	}
}

// BenchmarkGenerateUnchanged is generate on a scaffolded tree that is up to
// date: render, read and compare every file, write nothing.
func BenchmarkGenerateUnchanged(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "repo")
	benchRun(b, benchInitArgs(dir)...)
	b.ReportAllocs()
	for b.Loop() {
		benchRun(b, "generate", "--dir", dir)
	}
}

// BenchmarkWriteFilesBaseline writes the files that init writes, with the
// same sizes and directories, by plain os.WriteFile: the floor that
// BenchmarkInit is to be compared with.
func BenchmarkWriteFilesBaseline(b *testing.B) {
	ref := filepath.Join(b.TempDir(), "ref")
	benchRun(b, benchInitArgs(ref)...)
	files := map[string][]byte{}
	err := filepath.WalkDir(ref, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(ref, p)
		files[rel] = data
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(files) != 8 {
		b.Fatalf("init wrote %d files, want 8", len(files))
	}
	base := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(base, strconv.Itoa(i))
		for rel, data := range files {
			name := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(name, data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
