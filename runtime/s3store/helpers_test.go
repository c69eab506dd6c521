package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
)

func TestMain(m *testing.M) { os.Exit(s3test.Run(m)) }

// testConfig is the aws.Config of the tests' stores: the server at
// endpoint, with retries that back off briefly, so that a test of a
// server that went away ends in a second rather than in tens.
func testConfig(srv *s3test.Server, endpoint string) aws.Config {
	cfg := srv.Config(s3test.AccessKeyID, s3test.SecretAccessKey)
	cfg.BaseEndpoint = aws.String(endpoint)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 50 * time.Millisecond })
	}
	return cfg
}

// newStore returns a store for the shared server.
func newStore(srv *s3test.Server) *s3store.Store {
	return s3store.New(s3store.WithConfig(testConfig(srv, srv.Endpoint)))
}

// testContext bounds a test's calls: it guards against a hang, it does
// not time them.
func testContext(t *testing.T) context.Context {
	return testdeadline.Context(t)
}

// randomBytes returns n bytes that differ from run to run and compress
// not at all.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(time.Now().UnixNano())})
	_, _ = r.Read(b)
	return b
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

// wantErr checks that err wraps target (nil for any error) and names the
// location.
func wantErr(t *testing.T, what string, err, target error, location string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %v", what, target)
	case target != nil && !errors.Is(err, target):
		t.Errorf("%s: %v, want an error wrapping %q", what, err, target)
	case !strings.Contains(err.Error(), location):
		t.Errorf("%s: %q does not name %s", what, err, location)
	}
}

// readBack reads bucket/key with srv's own client, and returns its
// content and its CRC32C checksum ("" when it has none).
func readBack(ctx context.Context, t *testing.T, srv *s3test.Server, bucket, key string) (data []byte, crc32c string) {
	t.Helper()
	out, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("reading back s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err = io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading back s3://%s/%s: %v", bucket, key, err)
	}
	return data, aws.ToString(out.ChecksumCRC32C)
}

// wantNoObject checks with client that bucket/key does not exist.
func wantNoObject(ctx context.Context, t *testing.T, client *s3.Client, bucket, key string) {
	t.Helper()
	_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode() != "NotFound" && apiErr.ErrorCode() != "NoSuchBucket") {
		t.Errorf("HeadObject s3://%s/%s after a failed Put: %v, want NotFound", bucket, key, err)
	}
}

// errPastEnd is a write past the end of a memWriterAt.
var errPastEnd = errors.New("write past the end of the buffer")

// memWriterAt is an io.WriterAt into a buffer of a fixed size.
type memWriterAt struct {
	mu  sync.Mutex
	buf []byte
}

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(m.buf)) {
		return 0, errPastEnd
	}
	return copy(m.buf[off:], p), nil
}

func (m *memWriterAt) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.buf)
}
