package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// backwardSink stores what it is given reading it a part at a time from
// the end, as no store does in order: the worker's hash must not depend
// on the order of the reads.
type backwardSink struct {
	mu   sync.Mutex
	puts map[string][]byte
}

func (b *backwardSink) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, store.ErrNotFound
}

func (b *backwardSink) Put(_ context.Context, location string, src io.ReaderAt, size int64) error {
	data := make([]byte, size)
	const part = 4096
	for end := size; end > 0; end -= part {
		start := max(end-part, 0)
		if _, err := src.ReadAt(data[start:end], start); err != nil && err != io.EOF {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.puts[location] = data
	return nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// The answer's SHA-256 is that of the object stored, whatever the store
// and however it reads the output.
func TestOutputSHA256(t *testing.T) {
	video := make([]byte, 300_001)
	for i := range video {
		video[i] = byte(i*31 + i/7)
	}
	src := filepath.Join(t.TempDir(), "video.bin")
	if err := os.WriteFile(src, video, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.bin")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mem := newMemStore(nil)
	back := &backwardSink{puts: map[string][]byte{}}
	folder := t.TempDir()
	readFile := func(loc string) []byte {
		data, err := os.ReadFile(strings.TrimPrefix(loc, "file://"))
		if err != nil {
			t.Errorf("reading the uploaded object: %v", err)
		}
		return data
	}
	tests := []struct {
		name, url, from string
		stored          func(location string) []byte
	}{
		{"file:// folder", "file://" + folder, src, readFile},
		{"local folder, empty output", folder + "/empty", empty, readFile},
		{"bucket store", "s3://renders/out", src, func(loc string) []byte { return mem.puts[loc] }},
		{"store that reads backwards", "gs://renders/out", src, func(loc string) []byte { return back.puts[loc] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.OutputURL = tc.url
			w := newWorker(cfg, worker.WithSource("s3", mem), worker.WithSource("gs", back))
			r := w.Run(t.Context(), jobspec.Request{JobPath: outputJob(t, "cp "+tc.from+" chunk_0.mp4", "chunk_0.mp4", "")})
			if !r.OK() || r.OutputURL == "" {
				t.Fatalf("Run = OK %v, OutputURL %q (message %q)", r.OK(), r.OutputURL, r.Message())
			}
			stored := tc.stored(r.OutputURL)
			want, _ := os.ReadFile(tc.from)
			if r.OutputSHA256 != sha256Hex(stored) || r.OutputSHA256 != sha256Hex(want) || int64(len(stored)) != r.OutputBytes {
				t.Errorf("OutputSHA256 %s, OutputBytes %d; the stored object's is %s (%d bytes), the output's %s",
					r.OutputSHA256, r.OutputBytes, sha256Hex(stored), len(stored), sha256Hex(want))
			}
		})
	}
}

// Nothing uploaded, no hash: the command failed, or no output location
// is set.
func TestOutputSHA256NotUploaded(t *testing.T) {
	for name, tc := range map[string]struct{ command, url string }{
		"no output location": {`sh -c 'echo x > chunk_0.mp4'`, ""},
		"command failed":     {`sh -c 'echo x > chunk_0.mp4; exit 3'`, "file://" + t.TempDir()},
		"output missing":     {"true", "file://" + t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.OutputURL = tc.url
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: outputJob(t, tc.command, "chunk_0.mp4", "")})
			if r.OutputSHA256 != "" || r.OutputURL != "" {
				t.Errorf("OutputURL %q, OutputSHA256 %q; want neither", r.OutputURL, r.OutputSHA256)
			}
		})
	}
}
