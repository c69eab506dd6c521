package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	storage "google.golang.org/api/storage/v1"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// copyBuffer is the size of the buffer that Download writes from.
const copyBuffer = 256 << 10

// buffers holds Download's buffers, so that an asset folder of many small
// files does not allocate one per file.
var buffers = sync.Pool{New: func() any { return new([copyBuffer]byte) }}

// Open implements [store.Source]: the object's content, streamed. A read
// that reaches the end checks the CRC32C of what came against the
// object's and fails, wrapping [ErrChecksum], when they differ.
func (s *Store) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	return s.media(ctx, location)
}

// List implements [store.FolderSource]: the objects whose names start
// with the folder's key and a slash, all pages of them, with paths
// relative to the folder as stored. Placeholders (names ending in "/")
// are left out. An object's Version is its generation and CRC32C; one
// stored gzip-encoded is Encoded. A
// folder with no objects is an empty list; a missing bucket wraps
// [store.ErrNotFound].
func (s *Store) List(ctx context.Context, location string) ([]store.Object, error) {
	svc, r, err := s.resolve(ctx, location)
	if err != nil {
		return nil, err
	}
	prefix := r.key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/" // "assets" holds assets/x, not assets2/x
	}
	call := svc.Objects.List(r.bucket).Prefix(prefix).Fields("nextPageToken", "items(name,size,generation,crc32c,contentEncoding)")
	if s.pageSize > 0 {
		call.MaxResults(s.pageSize)
	}
	objs := []store.Object{}
	err = call.Pages(ctx, func(page *storage.Objects) error {
		for _, o := range page.Items {
			rel, ok := strings.CutPrefix(o.Name, prefix)
			if !ok || rel == "" || strings.HasSuffix(rel, "/") {
				continue
			}
			objs = append(objs, store.Object{Path: rel, Size: int64(o.Size), Version: version(o), Encoded: encoded(o)})
		}
		return nil
	})
	if err != nil {
		return nil, locate(location, err)
	}
	return objs, nil
}

// Download implements [store.FolderSource]: it streams the object into
// dst from offset 0 and checks the CRC32C of what came against the
// object's. A mismatch wraps [ErrChecksum]; a body cut short is an error
// too. It returns the number of bytes written.
func (s *Store) Download(ctx context.Context, location string, dst io.WriterAt) (int64, error) {
	return s.download(ctx, location, 0, dst)
}

// DownloadVersion implements [store.VersionedSource]: Download, of the
// object's generation that List gave in its Version ("generation/crc32c"),
// with an error wrapping [store.ErrChanged] when that generation is gone
// (a bucket with versioning still serves it).
func (s *Store) DownloadVersion(ctx context.Context, location, version string, dst io.WriterAt) (int64, error) {
	gen, _, _ := strings.Cut(version, "/")
	g, err := strconv.ParseInt(gen, 10, 64)
	if err != nil || g <= 0 {
		return 0, fmt.Errorf("%s: version %q is not one that List gave", location, version)
	}
	return s.download(ctx, location, g, dst)
}

func (s *Store) download(ctx context.Context, location string, generation int64, dst io.WriterAt) (int64, error) {
	body, err := s.mediaOf(ctx, location, generation)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	b := buffers.Get().(*[copyBuffer]byte)
	defer buffers.Put(b)
	buf := b[:]
	var off int64
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := dst.WriteAt(buf[:n], off); err != nil {
				return off, fmt.Errorf("%s: writing at offset %d: %w", location, off, err)
			}
			off += int64(n)
		}
		if rerr == io.EOF {
			return off, nil
		}
		if rerr != nil {
			return off, rerr // it names the location
		}
	}
}

// media starts downloading the object at location and returns its body,
// which checks the CRC32C at its end. The expected CRC32C is the one in
// the X-Goog-Hash header, or else the object's metadata.
func (s *Store) media(ctx context.Context, location string) (*checkedBody, error) {
	return s.mediaOf(ctx, location, 0)
}

// mediaOf is media, of the object only while it is generation (0: any).
func (s *Store) mediaOf(ctx context.Context, location string, generation int64) (*checkedBody, error) {
	svc, r, err := s.resolve(ctx, location)
	if err != nil {
		return nil, err
	}
	if r.key == "" {
		return nil, fmt.Errorf("%s: no object name", location)
	}
	call := svc.Objects.Get(r.bucket, r.key).Context(ctx)
	if generation != 0 {
		call.Generation(generation)
	}
	resp, err := call.Download()
	if err != nil {
		err = locate(location, err)
		if generation != 0 && errors.Is(err, store.ErrNotFound) {
			// The listed generation is gone: the object was replaced or
			// deleted since (a bucket without versioning keeps no other).
			return nil, fmt.Errorf("%s: %w (generation %d): %w", location, store.ErrChanged, generation, trimmed(err, location))
		}
		return nil, err
	}
	body := &checkedBody{rc: resp.Body, loc: location, crc: newCRC()}
	if !storedBytes(resp) {
		return body, nil // decompressed: the hash is that of the gzip bytes
	}
	want, ok := hashHeader(resp.Header)
	if !ok {
		if want, err = metadataCRC(ctx, svc, r, resp.Header); err != nil {
			resp.Body.Close()
			return nil, locate(location, err)
		}
	}
	body.want, body.check = want, true
	return body, nil
}

// metadataCRC reads the CRC32C of the object from its metadata, for a
// server that sent no X-Goog-Hash.
func metadataCRC(ctx context.Context, svc *storage.Service, r ref, h http.Header) (uint32, error) {
	call := svc.Objects.Get(r.bucket, r.key).Fields("crc32c").Context(ctx)
	if gen, err := strconv.ParseInt(h.Get("X-Goog-Generation"), 10, 64); err == nil {
		call.Generation(gen) // the generation whose media came
	}
	obj, err := call.Do()
	if err != nil {
		return 0, err
	}
	crc, ok := decodeCRC(obj.Crc32c)
	if !ok {
		return 0, fmt.Errorf("the server gave no crc32c to check the download against (%q)", obj.Crc32c)
	}
	return crc, nil
}

// storedBytes reports whether the body is the object's bytes as stored,
// so that their hash can be checked: not when the object is stored
// gzip-encoded and the transport or the server decompressed it.
func storedBytes(resp *http.Response) bool {
	if resp.Uncompressed {
		return false
	}
	switch resp.Header.Get("X-Goog-Stored-Content-Encoding") {
	case "", "identity":
		return true
	}
	return resp.Header.Get("Content-Encoding") != ""
}

// checkedBody is a download's body that computes the CRC32C of what it
// reads and, at the end, checks it.
type checkedBody struct {
	rc    io.ReadCloser
	loc   string
	crc   hash.Hash32
	want  uint32
	check bool
	n     int64
}

func (b *checkedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.crc.Write(p[:n])
	b.n += int64(n)
	switch {
	case err == io.EOF && b.check && b.crc.Sum32() != b.want:
		return n, fmt.Errorf("%s: %w: received %d bytes with crc32c %s, the object's is %s",
			b.loc, ErrChecksum, b.n, encodeCRC(b.crc.Sum32()), encodeCRC(b.want))
	case err != nil && err != io.EOF:
		return n, fmt.Errorf("%s: reading after %d bytes: %w", b.loc, b.n, err)
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.rc.Close() }

// encoded reports whether the object is stored compressed, which GCS
// serves decoded (decompressive transcoding): its Size is not the length
// of what comes.
func encoded(o *storage.Object) bool {
	return o.ContentEncoding != "" && o.ContentEncoding != "identity"
}

// version names an object's content for the worker's asset cache: its
// generation, which changes with every write, and its CRC32C. An object
// listed without a generation is not cached.
func version(o *storage.Object) string {
	if o.Generation == 0 {
		return ""
	}
	return strconv.FormatInt(o.Generation, 10) + "/" + o.Crc32c
}

// trimmed is err without the location its message starts with.
func trimmed(err error, location string) error {
	if msg, ok := strings.CutPrefix(err.Error(), location+": "); ok {
		return &apiError{msg: msg, errs: []error{err}}
	}
	return err
}
