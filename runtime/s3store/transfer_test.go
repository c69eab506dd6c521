package s3store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

func TestDownload(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	objects := map[string][]byte{
		"small.json": []byte(`{"fps": 30}`),
		"empty":      {},
		"single.mp4": randomBytes(9 << 20), // > 8 MiB, one PutObject
	}
	for key, data := range objects {
		srv.PutObject(t, bucket, key, data)
	}
	// Uploaded in parts, as the AWS CLI and the SDKs upload large files.
	objects["parts.mp4"] = randomBytes(21<<20 + 12345)
	tm := transfermanager.New(srv.Client, func(o *transfermanager.Options) { o.PartSizeBytes = 5 << 20 })
	_, err := tm.UploadObject(testContext(t), &transfermanager.UploadObjectInput{
		Bucket: &bucket, Key: new("parts.mp4"), Body: bytes.NewReader(objects["parts.mp4"]),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(srv)

	for key, data := range objects {
		t.Run(key, func(t *testing.T) {
			ctx := testContext(t)
			dst := &memWriterAt{buf: make([]byte, len(data))}
			n, err := st.Download(ctx, "s3://"+bucket+"/"+key, dst)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(data)) || sum(dst.bytes()) != sum(data) {
				t.Errorf("downloaded %d bytes, sha256 %x; want %d bytes, %x", n, sum(dst.bytes()), len(data), sum(data))
			}
		})
	}
	t.Run("larger than dst", func(t *testing.T) {
		// As the worker's destination refuses bytes past the listed size.
		location := "s3://" + bucket + "/single.mp4"
		_, err := st.Download(testContext(t), location, &memWriterAt{buf: make([]byte, 1<<20)})
		wantErr(t, "Download", err, errPastEnd, location)
	})
	t.Run("missing", func(t *testing.T) {
		location := "s3://" + bucket + "/missing"
		_, err := st.Download(testContext(t), location, &memWriterAt{})
		wantErr(t, "Download", err, store.ErrNotFound, location)
	})
}

func TestPut(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	st := newStore(srv)

	for _, tc := range []struct {
		name string
		size int
		// parts is the number of parts of a multipart upload; 0 for a
		// single PutObject.
		parts int
	}{
		{name: "empty", size: 0},
		{name: "small", size: 1000},
		{name: "just below a part", size: 5<<20 - 1},
		{name: "one part", size: 5 << 20, parts: 1},
		{name: "40 MB", size: 40_000_000, parts: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			data := randomBytes(tc.size)
			key := "out/" + strings.ReplaceAll(tc.name, " ", "-") + ".mp4"
			if err := st.Put(ctx, "s3://"+bucket+"/"+key, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			got, checksum := readBack(ctx, t, srv, bucket, key)
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes (sha256 %x), want %d (%x)", len(got), sum(got), len(data), sum(data))
			}
			wantChecksum(t, checksum, data, tc.parts)
		})
	}
}

// wantChecksum checks the CRC32C checksum that S3 keeps for an object
// of data: data's own, or for a multipart upload the checksum of its
// parts' checksums, "-" and the number of parts.
func wantChecksum(t *testing.T, got string, data []byte, parts int) {
	t.Helper()
	if parts == 0 {
		if want := crc(crc32.Castagnoli, data); got != want {
			t.Errorf("CRC32C %q, want %q", got, want)
		}
		return
	}
	want := compositeCRC(crc32.Castagnoli, data, parts)
	// moto computes part checksums with CRC32 (IEEE) in place of CRC32C
	// when its optional Python package crc32c is not installed.
	if fallback := compositeCRC(crc32.IEEE, data, parts); got == fallback && got != want {
		t.Logf("moto keeps CRC32 (IEEE) part checksums for CRC32C (no Python crc32c package): checked those")
		return
	}
	if got != want {
		t.Errorf("composite CRC32C %q, want %q", got, want)
	}
}

func crc(poly uint32, data []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(poly))))
}

// compositeCRC is S3's checksum of a multipart upload of data in parts
// of the store's part size: the checksum of the parts' checksums, "-" and
// the number of parts.
func compositeCRC(poly uint32, data []byte, parts int) string {
	const partSize = 5 << 20
	table := crc32.MakeTable(poly)
	var sums []byte
	for off := 0; off < len(data); off += partSize {
		sums = binary.BigEndian.AppendUint32(sums, crc32.Checksum(data[off:min(off+partSize, len(data))], table))
	}
	sum := binary.BigEndian.AppendUint32(nil, crc32.Checksum(sums, table))
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(sum), parts)
}

func TestPutFails(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	st := newStore(srv)

	t.Run("missing bucket", func(t *testing.T) {
		for _, size := range []int{1000, 6 << 20} { // PutObject, CreateMultipartUpload
			ctx := testContext(t)
			location := "s3://no-such-bucket-helios/out.mp4"
			err := st.Put(ctx, location, bytes.NewReader(randomBytes(size)), int64(size))
			wantErr(t, fmt.Sprintf("Put of %d bytes", size), err, store.ErrNotFound, location)
			wantNoObject(ctx, t, srv.Client, "no-such-bucket-helios", "out.mp4")
		}
	})
	t.Run("source shorter than its size", func(t *testing.T) {
		// A file truncated after the worker took its size.
		f, err := os.Create(filepath.Join(t.TempDir(), "out.mp4"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, size := range []int{1000, 12 << 20} {
			ctx := testContext(t)
			if _, err := f.WriteAt(randomBytes(size-1), 0); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("short-%d.mp4", size)
			location := "s3://" + bucket + "/" + key
			err := st.Put(ctx, location, f, int64(size))
			wantErr(t, fmt.Sprintf("Put of %d bytes from %d", size, size-1), err, nil, location)
			wantNoObject(ctx, t, srv.Client, bucket, key)
		}
	})
}
