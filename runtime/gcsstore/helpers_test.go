package gcsstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
)

// testContext bounds a test's calls: it guards against a hang, it does
// not time them.
func testContext(t *testing.T) context.Context {
	return testdeadline.Context(t)
}

// start starts a fake GCS that holds objects and points
// STORAGE_EMULATOR_HOST at it.
func start(t *testing.T, objects ...fakestorage.Object) *gcstest.Server {
	srv := gcstest.Start(t, objects...)
	t.Setenv(gcsstore.EmulatorHostEnv, srv.Host())
	return srv
}

// randomBytes returns n reproducible bytes that do not compress.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	rand.NewChaCha8(s).Read(b)
	return b
}

func sum(b []byte) [sha256.Size]byte { return sha256.Sum256(b) }

// crc is the JSON API's form of b's CRC32C.
func crc(b []byte) string {
	return encodeSum(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

func encodeSum(c uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, c))
}

// download runs Download into a file and returns what it holds.
func download(ctx context.Context, t *testing.T, s *gcsstore.Store, location string) ([]byte, int64, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "asset"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := s.Download(ctx, location, f)
	data, rerr := os.ReadFile(f.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	return data, n, err
}

// wantErr checks that err wraps target (nil: no error) and names location.
func wantErr(t *testing.T, err, target error, location string) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Errorf("error %v, want none", err)
	case target != nil && !errors.Is(err, target):
		t.Errorf("error %v, want one that wraps %q", err, target)
	case target != nil && !strings.HasPrefix(err.Error(), location+": "):
		t.Errorf("error %q does not start with %q", err, location+": ")
	}
}

// rewriter is a reverse proxy in front of srv that passes every response
// through edit, to take or change what the fake server sends.
func rewriter(t *testing.T, srv *gcstest.Server, edit func(*http.Response)) string {
	target, _ := url.Parse(srv.URL())
	p := httputil.NewSingleHostReverseProxy(target)
	p.ModifyResponse = func(r *http.Response) error { edit(r); return nil }
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "http://")
}

// changingFile is a file whose content changes once it has been read to
// the end: Put's checksum pass and its upload see different bytes, as if
// the file were corrupted between them.
type changingFile struct {
	data    []byte
	changed atomic.Bool
}

func (f *changingFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if f.changed.Load() && off <= 100 && 100 < off+int64(n) {
		p[100-off] ^= 0xff
	}
	if off+int64(n) == int64(len(f.data)) {
		f.changed.Store(true)
		if n < len(p) {
			return n, io.EOF
		}
	}
	return n, nil
}

// corrupt is an object stored with a CRC32C that is not its content's.
func corrupt(bucket, name string, content []byte) fakestorage.Object {
	return fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name, Crc32c: crc([]byte("other"))},
		Content:     content,
	}
}
