package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Open implements [store.Source]: the object at location, streamed. Its
// checksum, when it has one of its own (not a multipart one), is checked
// as it is read: a mismatch is an error at its end.
func (s *Store) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	bucket, key, err := objectLocation(location)
	if err != nil {
		return nil, err
	}
	client, _, err := s.clients(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:       &bucket,
		Key:          &key,
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return nil, newError(location, err)
	}
	return &body{ReadCloser: out.Body, location: location}, nil
}

// List implements [store.FolderSource]: the objects whose keys start
// with the folder's key and a slash ("s3://b/assets" lists "assets/...",
// not "assets2/..."), or the whole bucket when the key is empty. Paths are
// relative to the folder, exactly as stored; keys that end in a slash
// (folder placeholders) are left out. An object's Version is its ETag.
func (s *Store) List(ctx context.Context, location string) ([]store.Object, error) {
	bucket, key, err := store.SplitBucket(location)
	if err != nil {
		return nil, err
	}
	client, _, err := s.clients(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	// As store.JoinLocation does: the folder "assets//" holds "assets/x".
	prefix := strings.TrimRight(key, "/")
	in := &s3.ListObjectsV2Input{Bucket: &bucket}
	if prefix != "" {
		prefix += "/"
		in.Prefix = &prefix
	}
	var objs []store.Object
	for pages := s3.NewListObjectsV2Paginator(client, in); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, newError(location, err)
		}
		for _, o := range page.Contents {
			rel, ok := strings.CutPrefix(aws.ToString(o.Key), prefix)
			if !ok || rel == "" || strings.HasSuffix(rel, "/") {
				continue
			}
			objs = append(objs, store.Object{Path: rel, Size: aws.ToInt64(o.Size), Version: aws.ToString(o.ETag)})
		}
	}
	return objs, nil
}

// Download implements [store.FolderSource] through transfermanager: an
// object uploaded in parts is fetched part by part, downloadConcurrency
// at a time, each part written into dst at its offset as it arrives and
// checked against its own checksum; another object comes in one GET,
// checked against its checksum. It returns the number of bytes written.
func (s *Store) Download(ctx context.Context, location string, dst io.WriterAt) (int64, error) {
	return s.download(ctx, location, "", dst)
}

// DownloadVersion implements [store.VersionedSource]: Download, of the
// object whose ETag is the listed etag (If-Match on every request), and
// an error wrapping [store.ErrChanged] when it is no longer.
func (s *Store) DownloadVersion(ctx context.Context, location, etag string, dst io.WriterAt) (int64, error) {
	return s.download(ctx, location, etag, dst)
}

func (s *Store) download(ctx context.Context, location, etag string, dst io.WriterAt) (int64, error) {
	bucket, key, err := objectLocation(location)
	if err != nil {
		return 0, err
	}
	client, tm, err := s.clients(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", location, err)
	}
	w := &recordingWriterAt{w: dst}
	out, err := tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{
		Bucket:       &bucket,
		Key:          &key,
		IfMatch:      ifMatch(etag),
		WriterAt:     w,
		ChecksumMode: tmtypes.ChecksumModeEnabled,
	}, func(o *transfermanager.Options) { o.Concurrency = downloadConcurrency })
	_, isOp := errors.AsType[*smithy.OperationError](err)
	switch {
	case err == nil:
		return aws.ToInt64(out.ContentLength), nil
	case w.err() != nil:
		// dst refused the bytes (a size limit, a full disk): that is
		// the error, not transfermanager's wrapper of it.
		return 0, fmt.Errorf("%s: %w", location, w.err())
	case !isOp && w.written.Load() == 0 && ctx.Err() == nil:
		// S3 answered, but not as transfermanager expects: S3-compatible
		// servers differ in their answers to partNumber GETs (moto's for
		// an empty object has a Content-Range of "bytes 0--1/0"). One
		// plain GET does not depend on them.
		return getInto(ctx, client, location, bucket, key, etag, dst)
	default:
		return 0, newError(location, err)
	}
}

// ifMatch is the If-Match of a download pinned to etag; nil for none.
func ifMatch(etag string) *string {
	if etag == "" {
		return nil
	}
	return &etag
}

// getInto writes the object into dst from one GET, checking its checksum.
func getInto(ctx context.Context, client *s3.Client, location, bucket, key, etag string, dst io.WriterAt) (int64, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:       &bucket,
		Key:          &key,
		IfMatch:      ifMatch(etag),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return 0, newError(location, err)
	}
	defer out.Body.Close()
	n, err := io.Copy(io.NewOffsetWriter(dst, 0), out.Body)
	if err != nil {
		return n, newError(location, err)
	}
	return n, nil
}

// Put implements [store.Sink] through transfermanager: an object of
// partSize or more is a multipart upload, streamed from src a part at a
// time, and anything smaller a single PutObject. Every request carries a
// CRC32C checksum that S3 verifies. S3 shows the object only once it is
// whole; a multipart upload that fails is aborted, even after ctx is done.
func (s *Store) Put(ctx context.Context, location string, src io.ReaderAt, size int64) error {
	bucket, key, err := objectLocation(location)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%s: negative size %d", location, size)
	}
	_, tm, err := s.clients(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", location, err)
	}
	_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:        &bucket,
		Key:           &key,
		Body:          &exactReader{r: io.NewSectionReader(src, 0, size), size: size},
		ContentLength: aws.Int64(size), // the body is no io.Seeker: its size comes from here
	})
	if err != nil {
		return newError(location, err)
	}
	return nil
}

// objectLocation splits location into a bucket and a key that is not
// empty.
func objectLocation(location string) (bucket, key string, err error) {
	bucket, key, err = store.SplitBucket(location)
	if err == nil && key == "" {
		err = fmt.Errorf("%s: no object key after the bucket", location)
	}
	return bucket, key, err
}

// body is an object's content that names the object in its errors.
type body struct {
	io.ReadCloser
	location string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = newError(b.location, err)
	}
	return n, err
}

// recordingWriterAt counts the bytes written through it and keeps the
// first error of its destination.
type recordingWriterAt struct {
	w       io.WriterAt
	written atomic.Int64
	failed  atomic.Pointer[error]
}

func (r *recordingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := r.w.WriteAt(p, off)
	r.written.Add(int64(n))
	if err != nil {
		r.failed.CompareAndSwap(nil, &err)
	}
	return n, err
}

func (r *recordingWriterAt) err() error {
	if p := r.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// exactReader reads size bytes from r. A source that ends sooner (a file
// truncated since its size was taken) is an error, not a shorter object.
type exactReader struct {
	r    io.Reader
	size int64
	read int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.read += int64(n)
	if err == io.EOF && e.read < e.size {
		err = fmt.Errorf("the source ended after %d of %d bytes: %w", e.read, e.size, io.ErrUnexpectedEOF)
	}
	return n, err
}
