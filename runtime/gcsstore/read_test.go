package gcsstore_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

func TestOpen(t *testing.T) {
	srv := start(t)
	srv.PutObject("renders", "job-42.json", []byte(`{"chunks":[]}`))
	srv.PutObject("renders", "dir/job 43 é.json", []byte(`{}`))
	srv.PutObject("renders", "empty.json", nil)
	s := gcsstore.New()

	tests := []struct {
		location string
		want     string
		err      error
	}{
		{"gs://renders/job-42.json", `{"chunks":[]}`, nil},
		{"gs://renders/dir/job 43 é.json", `{}`, nil},
		{"gs://renders/empty.json", "", nil},
		{"gs://renders/missing.json", "", store.ErrNotFound},
		{"gs://no-such-bucket/job.json", "", store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			rc, err := s.Open(testContext(t), tt.location)
			wantErr(t, err, tt.err, tt.location)
			if err != nil {
				return
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || string(got) != tt.want {
				t.Errorf("read %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"gs://renders", "gs://renders/", "gs:///x", "renders/job.json"} {
		if _, err := s.Open(testContext(t), bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Open(%q): %v, want an error that names it", bad, err)
		}
	}
}

func TestList(t *testing.T) {
	srv := start(t)
	for name, size := range map[string]int{
		"job/assets/logo.png":      3,
		"job/assets/img/a.png":     5,
		"job/assets/img/":          0, // placeholders
		"job/assets/":              0,
		"job/assets/fonts/":        0,
		"job/assets/deep/x/y/z.js": 7,
		"job/assets2/other.png":    11,
		"job/assets.json":          13,
		"top.txt":                  17,
	} {
		srv.PutObject("b", name, make([]byte, size))
	}
	srv.CreateBucket("empty")
	assets := []store.Object{obj("deep/x/y/z.js", 7), obj("img/a.png", 5), obj("logo.png", 3)}

	tests := []struct {
		location string
		pageSize int64
		want     []store.Object
		err      error
	}{
		{"gs://b/job/assets", 0, assets, nil},
		{"gs://b/job/assets/", 0, assets, nil},
		{"gs://b/job/assets", 1, assets, nil}, // one object per page, placeholders included
		{"gs://b/job/assets/img", 0, []store.Object{obj("a.png", 5)}, nil},
		{"gs://b/job/assets/fonts", 0, nil, nil},
		{"gs://b/job/nothing", 0, nil, nil},
		{"gs://empty", 0, nil, nil},
		{"gs://b", 2, slices.Concat([]store.Object{obj("job/assets.json", 13)}, prefixed("job/assets/", assets),
			[]store.Object{obj("job/assets2/other.png", 11), obj("top.txt", 17)}), nil},
		{"gs://no-such-bucket/assets", 0, nil, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			s := gcsstore.New(gcsstore.WithPageSize(tt.pageSize))
			before := srv.Requests()
			got, err := s.List(testContext(t), tt.location)
			wantErr(t, err, tt.err, tt.location)
			if err != nil {
				return
			}
			slices.SortFunc(got, func(a, b store.Object) int { return strings.Compare(a.Path, b.Path) })
			checkVersions(t, srv, tt.location, got)
			for i := range got {
				got[i].Version = ""
			}
			if !slices.Equal(got, tt.want) || got == nil {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
			if tt.pageSize == 1 && srv.Requests()-before < 5 {
				t.Errorf("listed 7 objects one per page in %d requests", srv.Requests()-before)
			}
		})
	}
}

// checkVersions checks that each listed object's Version is its
// generation and CRC32C, as the server has them.
func checkVersions(t *testing.T, srv *gcstest.Server, folder string, objs []store.Object) {
	t.Helper()
	bucket, key, _ := store.SplitBucket(folder)
	if key = strings.TrimSuffix(key, "/"); key != "" {
		key += "/"
	}
	for _, o := range objs {
		stored, ok := srv.Object(bucket, key+o.Path)
		if want := fmt.Sprintf("%d/%s", stored.Generation, stored.Crc32c); !ok || stored.Generation == 0 || o.Version != want {
			t.Errorf("%s: Version %q, want %q", o.Path, o.Version, want)
		}
	}
}

func obj(path string, size int64) store.Object { return store.Object{Path: path, Size: size} }

func prefixed(prefix string, objs []store.Object) []store.Object {
	out := make([]store.Object, len(objs))
	for i, o := range objs {
		out[i] = obj(prefix+o.Path, o.Size)
	}
	return out
}

func TestDownload(t *testing.T) {
	large := randomBytes(9<<20+12345, 1) // more than one read, one chunk
	srv := start(t, corrupt("b", "corrupt.bin", large[:1<<20]))
	small := []byte("helios")
	srv.PutObject("b", "small.txt", small)
	srv.PutObject("b", "large.bin", large)
	srv.PutObject("b", "empty", nil)
	s := gcsstore.New()

	tests := []struct {
		location string
		want     []byte
		err      error
	}{
		{"gs://b/small.txt", small, nil},
		{"gs://b/large.bin", large, nil},
		{"gs://b/empty", []byte{}, nil},
		{"gs://b/missing", []byte{}, store.ErrNotFound},
		{"gs://b/corrupt.bin", nil, gcsstore.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			got, n, err := download(testContext(t), t, s, tt.location)
			wantErr(t, err, tt.err, tt.location)
			if tt.want != nil && (sum(got) != sum(tt.want) || n != int64(len(tt.want))) {
				t.Errorf("got %d bytes (n = %d), sha256 %x; want %d bytes, sha256 %x",
					len(got), n, sum(got), len(tt.want), sum(tt.want))
			}
		})
	}

	// Open checks the CRC32C too, at the end of the body.
	rc, err := s.Open(testContext(t), "gs://b/corrupt.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	wantErr(t, err, gcsstore.ErrChecksum, "gs://b/corrupt.bin")
}

// A server that sends no X-Goog-Hash has the CRC32C looked up in the
// object's metadata; a wrong header is caught.
func TestDownloadHashHeader(t *testing.T) {
	data := randomBytes(300_000, 2)
	srv := gcstest.Start(t, corrupt("b", "corrupt.bin", data))
	srv.PutObject("b", "x.bin", data)

	tests := []struct {
		name, location string
		edit           func(*http.Response)
		err            error
	}{
		{"no header", "gs://b/x.bin", func(r *http.Response) { r.Header.Del("X-Goog-Hash") }, nil},
		{"no header, bad metadata", "gs://b/corrupt.bin", func(r *http.Response) { r.Header.Del("X-Goog-Hash") }, gcsstore.ErrChecksum},
		{"md5 only", "gs://b/x.bin", func(r *http.Response) { r.Header.Set("X-Goog-Hash", "md5=AAAA") }, nil},
		{"split values", "gs://b/x.bin", func(r *http.Response) {
			r.Header["X-Goog-Hash"] = []string{"md5=AAAA", "crc32c=" + crc(data)}
		}, nil},
		{"tampered", "gs://b/x.bin", func(r *http.Response) {
			r.Header.Set("X-Goog-Hash", "crc32c="+crc([]byte("other"))+",md5=AAAA")
		}, gcsstore.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(gcsstore.EmulatorHostEnv, rewriter(t, srv, tt.edit))
			got, _, err := download(testContext(t), t, gcsstore.New(), tt.location)
			wantErr(t, err, tt.err, tt.location)
			if tt.err == nil && !bytes.Equal(got, data) {
				t.Errorf("got %d bytes, want %d", len(got), len(data))
			}
		})
	}
}

// An object stored gzip-encoded comes decompressed, as GCS serves it to a
// client that asked for gzip; its hash, that of the gzip bytes, is not
// held against the decompressed ones.
func TestDownloadGzipEncoded(t *testing.T) {
	srv := start(t)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(strings.Repeat("helios ", 1000)))
	zw.Close()
	srv.Fake().CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "b", Name: "app.js", ContentEncoding: "gzip"},
		Content:     z.Bytes(),
	})
	got, _, err := download(testContext(t), t, gcsstore.New(), "gs://b/app.js")
	if err != nil || string(got) != strings.Repeat("helios ", 1000) {
		t.Errorf("got %d bytes, %v", len(got), err)
	}
	// The listing says so: its size is the stored one, not what comes.
	srv.PutObject("b", "plain.js", []byte("x"))
	objs, err := gcsstore.New().List(testContext(t), "gs://b")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if want := o.Path == "app.js"; o.Encoded != want || (want && o.Size != int64(z.Len())) {
			t.Errorf("listed %+v, want Encoded %v and the stored size %d", o, want, z.Len())
		}
	}
}

// TestDownloadVersion: a download pinned to the listed generation gets
// it, and fails with store.ErrChanged once the object was replaced, even
// by one of the same size.
func TestDownloadVersion(t *testing.T) {
	srv := start(t)
	srv.PutObject("b", "assets/a.bin", []byte("original"))
	s := gcsstore.New()
	ctx := testContext(t)
	objs, err := s.List(ctx, "gs://b/assets")
	if err != nil || len(objs) != 1 || objs[0].Version == "" {
		t.Fatalf("List = %+v, %v", objs, err)
	}
	var buf memWriter
	if n, err := s.DownloadVersion(ctx, "gs://b/assets/a.bin", objs[0].Version, &buf); err != nil || n != 8 || buf.String() != "original" {
		t.Fatalf("DownloadVersion of the listed version = %d, %v, %q", n, err, buf.String())
	}
	srv.PutObject("b", "assets/a.bin", []byte("replaced"))
	_, err = s.DownloadVersion(ctx, "gs://b/assets/a.bin", objs[0].Version, &memWriter{})
	if !errors.Is(err, store.ErrChanged) || !strings.Contains(err.Error(), "changed since it was listed") {
		t.Errorf("DownloadVersion after a replacement of the same size: %v, want store.ErrChanged", err)
	}
}

// memWriter is an io.WriterAt that appends.
type memWriter struct{ bytes.Buffer }

func (m *memWriter) WriteAt(p []byte, _ int64) (int, error) { return m.Write(p) }
