package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// A job spec or an asset that is a FIFO, a device or a folder is refused
// at once, naming what it is: opening a FIFO for reading waits for a
// writer, and no timeout covers an open.
func TestFileSourceRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "spec.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ops := map[string]func(ctx context.Context, location string) error{
		"Open": func(ctx context.Context, location string) error {
			_, err := store.FileSource{}.Open(ctx, location)
			return err
		},
		"Download": func(ctx context.Context, location string) error {
			_, err := store.FileSource{}.Download(ctx, location, writerAt{&buf})
			return err
		},
	}
	tests := []struct{ name, location, kind string }{
		{"FIFO", fifo, "a FIFO"},
		{"file:// FIFO", "file://" + fifo, "a FIFO"},
		{"device", "/dev/null", "a device"},
		{"folder", dir, "a folder"},
	}
	for _, tt := range tests {
		for op, do := range ops {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				done := make(chan error, 1)
				go func() { done <- do(t.Context(), tt.location) }()
				select {
				case err := <-done:
					if !errors.Is(err, store.ErrNotRegular) || !strings.Contains(err.Error(), "is not a regular file ("+tt.kind+")") {
						t.Errorf("%s(%s) = %v, want it refused as %s", op, tt.location, err, tt.kind)
					}
				case <-testdeadline.After(t):
					t.Fatalf("%s(%s) still blocked", op, tt.location)
				}
			})
		}
	}
}

type writerAt struct{ b *bytes.Buffer }

func (w writerAt) WriteAt(p []byte, _ int64) (int, error) { return w.b.Write(p) }
