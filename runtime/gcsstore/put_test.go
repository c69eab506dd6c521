package gcsstore_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/googleapi"

	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

func TestPut(t *testing.T) {
	srv := start(t)
	srv.CreateBucket("out")
	srv.PutObject("out", "old.mp4", []byte("an earlier render"))
	// The smallest chunks GCS takes, so that a resumable upload of many
	// chunks moves a megabyte, not forty.
	const chunk = googleapi.MinUploadChunkSize
	s := gcsstore.New(gcsstore.WithChunkSize(chunk))

	tests := []struct {
		name        string
		location    string
		data        []byte
		contentType string
		requests    int64 // at least
	}{
		{"small", "gs://out/job/chunk_0.mp4", randomBytes(1000, 3), "video/mp4", 1},
		{"empty", "gs://out/job/empty.json", []byte{}, "application/json", 1},
		{"one chunk exactly", "gs://out/job/chunk.bin", randomBytes(chunk, 4), "application/octet-stream", 3},
		{"resumable", "gs://out/job/chunk_1.webm", randomBytes(5*chunk+777, 5), "video/webm", 6},
		{"overwrite", "gs://out/old.mp4", []byte("the new render"), "video/mp4", 1},
		{"name with spaces", "gs://out/a b/ç?#.mp4", []byte("x"), "video/mp4", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Requests()
			err := s.Put(testContext(t), tt.location, bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.Requests() - before; n < tt.requests {
				t.Errorf("uploaded in %d requests, want at least %d", n, tt.requests)
			}
			bucket, key, _ := store.SplitBucket(tt.location)
			got, ok := srv.Object(bucket, key)
			switch {
			case !ok:
				t.Fatalf("no object %s", tt.location)
			case sum(got.Content) != sum(tt.data):
				t.Errorf("stored %d bytes, sha256 %x; want %d, %x", len(got.Content), sum(got.Content), len(tt.data), sum(tt.data))
			case got.Crc32c != crc(tt.data):
				t.Errorf("the server recorded crc32c %s, want %s", got.Crc32c, crc(tt.data))
			case got.ContentType != tt.contentType:
				t.Errorf("Content-Type %q, want %q", got.ContentType, tt.contentType)
			}
			back, _, err := download(testContext(t), t, s, tt.location)
			if err != nil || !bytes.Equal(back, tt.data) {
				t.Errorf("read back %d bytes, %v; want %d", len(back), err, len(tt.data))
			}
		})
	}
}

func TestPutFails(t *testing.T) {
	srv := start(t)
	srv.CreateBucket("out")
	s := gcsstore.New()
	data := []byte("frames")

	tests := []struct {
		location string
		err      error
	}{
		{"gs://no-such-bucket/chunk_0.mp4", store.ErrNotFound},
		{"gs://out/", nil},
		{"gs://out", nil},
		{"gs://out/folder/", nil},
	}
	for _, tt := range tests {
		err := s.Put(testContext(t), tt.location, bytes.NewReader(data), int64(len(data)))
		if err == nil || !strings.HasPrefix(err.Error(), tt.location+": ") {
			t.Errorf("Put(%s): %v, want an error that names it", tt.location, err)
		}
		if tt.err != nil {
			wantErr(t, err, tt.err, tt.location)
		}
	}
	if _, ok := srv.Object("no-such-bucket", "chunk_0.mp4"); ok {
		t.Error("a Put to a missing bucket stored an object")
	}
	if list, _ := srv.Fake().ListObjectsWithOptionsPaginated("out", fakestorage.ListOptions{}); len(list.Objects) != 0 {
		t.Errorf("failed Puts left %d objects", len(list.Objects))
	}
	if err := s.Put(testContext(t), "gs://out/short", bytes.NewReader(data), 100); err == nil {
		t.Error("Put of 100 bytes from a 6-byte file succeeded")
	}
}

// A file whose bytes change between Put's checksum pass and its upload
// stores nothing: GCS refuses the upload whose declared CRC32C does not
// match. fake-gcs-server checks it only for a single-request upload; for a
// resumable one, Put's own check sees the server's CRC32C differ and
// deletes the object.
func TestPutChecksumRefused(t *testing.T) {
	srv := start(t)
	srv.PutObject("out", "chunk_0.mp4", []byte("an earlier render"))
	s := gcsstore.New()

	tests := []struct {
		name, key string
		size      int
		keep      []byte // what stays at key
	}{
		{"single request", "chunk_0.mp4", 100_000, []byte("an earlier render")},
		{"resumable", "chunk_1.mp4", 3*gcsstore.DefaultChunkSize + 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			location := "gs://out/" + tt.key
			f := &changingFile{data: randomBytes(tt.size, 6)}
			err := s.Put(testContext(t), location, f, int64(tt.size))
			wantErr(t, err, gcsstore.ErrChecksum, location)
			got, ok := srv.Object("out", tt.key)
			if tt.keep == nil && ok {
				t.Errorf("%s holds %d bytes after a refused Put", location, len(got.Content))
			}
			if tt.keep != nil && (!ok || !bytes.Equal(got.Content, tt.keep)) {
				t.Errorf("%s holds %q, want the earlier %q", location, got.Content, tt.keep)
			}
		})
	}
}
