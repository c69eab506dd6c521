package gcsstore

import (
	"context"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"google.golang.org/api/googleapi"
	storage "google.golang.org/api/storage/v1"
)

// Put implements [store.Sink]. It reads the file once to compute its
// CRC32C, then uploads it with that CRC32C declared, so that the server
// refuses the object (HTTP 400) unless it received exactly those bytes. A
// file smaller than the chunk size goes up in one multipart request
// streamed from the file; a larger one through a resumable upload in
// chunks (see [WithChunkSize]). Either way the object appears only once
// the upload is whole: a failed or cut-off Put leaves no object, and an
// existing object at location stays as it was.
//
// Put overwrites an existing object (outputs are re-rendered): creating
// needs storage.objects.create, as in roles/storage.objectCreator, but
// replacing an object also needs storage.objects.delete, as in
// roles/storage.objectUser or roles/storage.objectAdmin.
func (s *Store) Put(ctx context.Context, location string, src io.ReaderAt, size int64) error {
	svc, r, err := s.resolve(ctx, location)
	if err != nil {
		return err
	}
	if r.key == "" || strings.HasSuffix(r.key, "/") {
		return fmt.Errorf("%s: not an object name", location)
	}
	sum, err := checksum(ctx, src, size)
	if err != nil {
		return fmt.Errorf("%s: reading the file: %w", location, err)
	}
	ctype := contentType(r.key)
	opts := []googleapi.MediaOption{googleapi.ContentType(ctype), googleapi.ChunkSize(s.chunkSize)}
	if size < int64(s.chunkSize) {
		opts[1] = googleapi.ChunkSize(0) // one request, not buffered
	}
	if s.retryDeadline > 0 {
		opts = append(opts, googleapi.ChunkRetryDeadline(s.retryDeadline))
	}
	obj := &storage.Object{Name: r.key, ContentType: ctype, Crc32c: encodeCRC(sum)}
	got, err := svc.Objects.Insert(r.bucket, obj).
		Media(io.NewSectionReader(src, 0, size), opts...).
		Fields("size", "crc32c", "generation").
		Context(ctx).Do()
	if err != nil {
		return locate(location, err)
	}
	return confirm(ctx, svc, r, got, size, sum)
}

// confirm checks the size and CRC32C that the server recorded. GCS
// verifies the declared CRC32C itself, but an emulator may not (see the
// package documentation); a wrong object is then deleted again, as far as
// the credentials allow.
func confirm(ctx context.Context, svc *storage.Service, r ref, got *storage.Object, size int64, sum uint32) error {
	if got.Size == uint64(size) && (got.Crc32c == "" || got.Crc32c == encodeCRC(sum)) {
		return nil
	}
	err := fmt.Errorf("%s: %w: the server stored %d bytes, crc32c %q, of a file of %d bytes, crc32c %q",
		r.location, ErrChecksum, got.Size, got.Crc32c, size, encodeCRC(sum))
	del := svc.Objects.Delete(r.bucket, r.key).Context(ctx)
	if got.Generation != 0 {
		del.Generation(got.Generation) // not a later upload's
	}
	if derr := del.Do(); derr != nil {
		return fmt.Errorf("%w (and deleting it failed: %w)", err, locate(r.location, derr))
	}
	return err
}

// contentType is the object's Content-Type, from its extension, so that
// an output opens in a browser: video/mp4 for "chunk_0.mp4".
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".mp4", ".m4v":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	case ".mov":
		return "video/quicktime"
	case ".mkv":
		return "video/x-matroska"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
