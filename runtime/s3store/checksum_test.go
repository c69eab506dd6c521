package s3store_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// TestChecksumMismatch: an object whose bytes do not match the checksum
// that S3 keeps for it fails Open (at the end of the read) and Download.
func TestChecksumMismatch(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	// moto keeps the checksum that the client sends without checking it,
	// as S3 would keep one of bytes that changed since.
	_, err := srv.Client.PutObject(testContext(t, 10*time.Second), &s3.PutObjectInput{
		Bucket:            &bucket,
		Key:               aws.String("job.json"),
		Body:              bytes.NewReader([]byte(`{"id": "job-42"}`)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumCRC32C:    aws.String("AAAAAA=="),
	})
	if err != nil {
		t.Fatal(err)
	}
	store := newStore(srv)
	location := "s3://" + bucket + "/job.json"

	r, err := store.Open(testContext(t, 10*time.Second), location)
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

	_, err = store.Download(testContext(t, 10*time.Second), location, &memWriterAt{buf: make([]byte, 100)})
	wantErr(t, "downloading an object that does not match its checksum", err, nil, location)
	t.Logf("Download: %v", err)
}
