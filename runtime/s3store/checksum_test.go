package s3store_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// TestChecksumMismatch: an object whose bytes do not match the checksum
// that S3 keeps for it fails Open (at the end of the read) and Download.
func TestChecksumMismatch(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	// moto keeps the checksum that the client sends without checking it,
	// as S3 would keep one of bytes that changed since.
	_, err := srv.Client.PutObject(testContext(t), &s3.PutObjectInput{
		Bucket:            &bucket,
		Key:               aws.String("job.json"),
		Body:              bytes.NewReader([]byte(`{"id": "job-42"}`)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumCRC32C:    aws.String("AAAAAA=="),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(srv)
	location := "s3://" + bucket + "/job.json"

	r, err := st.Open(testContext(t), location)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	wantErr(t, "reading an object that does not match its checksum", err, nil, location)
	if err != nil && !strings.Contains(err.Error(), "checksum") {
		t.Errorf("the error does not say that the checksum did not match: %v", err)
	}
	t.Logf("Open: %v", err)

	_, err = st.Download(testContext(t), location, &memWriterAt{buf: make([]byte, 100)})
	wantErr(t, "downloading an object that does not match its checksum", err, nil, location)
	t.Logf("Download: %v", err)
}

// TestGzipEncodedArrivesAsStored: an object uploaded with
// Content-Encoding gzip (aws s3 cp --content-encoding gzip) is listed,
// downloaded and read as stored, the gzip bytes, as S3 serves them; no
// layer decodes it behind the listing's size.
func TestGzipEncodedArrivesAsStored(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(bytes.Repeat([]byte("helios "), 1000))
	zw.Close()
	ctx := testContext(t)
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("assets/app.js"), Body: bytes.NewReader(z.Bytes()),
		ContentEncoding: aws.String("gzip"), ContentType: aws.String("text/javascript"),
	}); err != nil {
		t.Fatal(err)
	}
	st := newStore(srv)
	objs, err := st.List(ctx, "s3://"+bucket+"/assets")
	if err != nil || len(objs) != 1 || objs[0].Size != int64(z.Len()) || objs[0].Encoded {
		t.Fatalf("List = %+v, %v; want app.js with its stored size %d, not Encoded", objs, err, z.Len())
	}
	w := &memWriterAt{buf: make([]byte, z.Len())}
	n, err := st.Download(ctx, "s3://"+bucket+"/assets/app.js", w)
	if err != nil || n != int64(z.Len()) || !bytes.Equal(w.bytes(), z.Bytes()) {
		t.Errorf("Download = %d, %v; want the %d stored bytes", n, err, z.Len())
	}
	r, err := st.Open(ctx, "s3://"+bucket+"/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, z.Bytes()) {
		t.Errorf("Open read %d bytes, %v; want the %d stored bytes", len(got), err, z.Len())
	}
}

// TestDownloadVersion: a download pinned to the listed ETag gets that
// object, and fails with store.ErrChanged once the object was replaced,
// even by one of the same size.
func TestDownloadVersion(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	ctx := testContext(t)
	srv.PutObject(t, bucket, "assets/a.bin", []byte("original"))
	st := newStore(srv)
	objs, err := st.List(ctx, "s3://"+bucket+"/assets")
	if err != nil || len(objs) != 1 || objs[0].Version == "" {
		t.Fatalf("List = %+v, %v", objs, err)
	}
	location := "s3://" + bucket + "/assets/a.bin"
	w := &memWriterAt{buf: make([]byte, 8)}
	if n, err := st.DownloadVersion(ctx, location, objs[0].Version, w); err != nil || n != 8 || string(w.bytes()) != "original" {
		t.Fatalf("DownloadVersion of the listed version = %d, %v, %q", n, err, w.bytes())
	}
	srv.PutObject(t, bucket, "assets/a.bin", []byte("replaced"))
	_, err = st.DownloadVersion(ctx, location, objs[0].Version, &memWriterAt{buf: make([]byte, 8)})
	if !errors.Is(err, store.ErrChanged) || !strings.Contains(err.Error(), "changed since it was listed") {
		t.Errorf("DownloadVersion after a replacement of the same size: %v, want store.ErrChanged", err)
	}
}
