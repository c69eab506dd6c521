package fanout_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// flipping is a store behind a proxy that flips the first byte of each
// download, or, with cut, drops its last half while the store counts
// it whole.
type flipping struct {
	fanout.Bucket
	cut bool
}

func (f flipping) Download(ctx context.Context, location string, dst io.WriterAt) (int64, error) {
	return f.Bucket.Download(ctx, location, f.wrap(dst))
}

func (f flipping) wrap(dst io.WriterAt) io.WriterAt { return &flipWriter{dst: dst, cut: f.cut} }

type flipWriter struct {
	dst io.WriterAt
	cut bool
}

func (w *flipWriter) WriteAt(p []byte, off int64) (int, error) {
	q := bytes.Clone(p)
	if w.cut {
		q = q[:len(q)/2]
	} else if off == 0 && len(q) > 0 {
		q[0] ^= 0xff
	}
	_, err := w.dst.WriteAt(q, off)
	return len(p), err
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Collect merges nothing that is not what its worker put: an object
// replaced by one of another size or of the same size, and bytes that a
// proxy flips or cuts on the way, are Bad, by chunk, on both stores and
// whether or not the store keeps a checksum it checks; a good output is
// collected. A wrong file already in place is replaced.
func TestCollectProves(t *testing.T) {
	for _, s := range bucketStores {
		t.Run(s.name, func(t *testing.T) {
			b, loc := s.start(t)
			ctx := testdeadline.Context(t)
			put := func(name, content string) {
				t.Helper()
				if err := b.Put(ctx, loc+"/"+name, strings.NewReader(content), int64(len(content))); err != nil {
					t.Fatal(err)
				}
			}
			put("p0.mp4", "frames 0-29")
			put("p1.mp4", "frames 30-59, replaced by a longer one")
			put("p2.mp4", "frames 60-8X") // same size, other bytes
			outs := []fanout.Output{
				{Chunk: 0, URL: loc + "/p0.mp4", File: "p0.mp4", Bytes: 11, SHA256: sha("frames 0-29")},
				{Chunk: 1, URL: loc + "/p1.mp4", File: "p1.mp4", Bytes: 12, SHA256: sha("frames 30-59")},
				{Chunk: 2, URL: loc + "/p2.mp4", File: "p2.mp4", Bytes: 12, SHA256: sha("frames 60-89")},
			}
			out := t.TempDir()
			os.WriteFile(filepath.Join(out, "p0.mp4"), []byte("frames 0-2X"), 0o644)
			st, err := fanout.Collect(ctx, b, outs, out, 2)
			if err != nil {
				t.Fatal(err)
			}
			wantBad(t, st.Bad, map[int64]string{1: "it was replaced since", 2: "its worker put " + sha("frames 60-89")})
			wantFile(t, filepath.Join(out, "p0.mp4"), "frames 0-29")
			wantOnly(t, out, "p0.mp4")
			if info, _ := os.Stat(filepath.Join(out, "p0.mp4")); info.Mode().Perm() != newFileMode(t) {
				t.Errorf("collected output mode %v, want the umask's %v", info.Mode().Perm(), newFileMode(t))
			}

			for _, cut := range []bool{false, true} {
				out := t.TempDir()
				// Without the worker's SHA-256, the store's checksum must
				// catch it: a store that keeps none cannot prove it.
				noSum := outs[0]
				noSum.SHA256, noSum.Bytes, noSum.Chunk = "", -1, 5
				st, err := fanout.Collect(ctx, flipping{b, cut}, []fanout.Output{outs[0], noSum}, out, 2)
				if err != nil && !strings.Contains(err.Error(), "chunk 5") {
					t.Fatalf("cut %v: Collect = %v", cut, err)
				}
				why := map[int64]string{0: "its worker put " + outs[0].SHA256}
				if err == nil {
					why[5] = "do not match the store's checksum"
				}
				wantBad(t, st.Bad, why)
				wantOnly(t, out)
			}
		})
	}
}

func wantBad(t *testing.T, bad []fanout.BadOutput, why map[int64]string) {
	t.Helper()
	if len(bad) != len(why) {
		t.Errorf("Bad = %+v, want chunks %v", bad, why)
	}
	for _, b := range bad {
		if w, ok := why[b.Chunk]; !ok || !strings.Contains(b.Why, w) {
			t.Errorf("Bad chunk %d: %q, want %q", b.Chunk, b.Why, w)
		}
	}
}

// newFileMode is the mode a new file gets here under the umask.
func newFileMode(t *testing.T) os.FileMode {
	t.Helper()
	probe := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, err := os.Stat(probe)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}
