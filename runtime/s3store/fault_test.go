package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
)

// proxied returns a store that reaches srv through a fault proxy.
func proxied(t *testing.T, srv *s3test.Server) (*s3store.Store, *faultproxy.Proxy) {
	p := faultproxy.Start(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	return s3store.New(s3store.WithConfig(testConfig(srv, p.URL()))), p
}

// TestDownloadCutOff: a server that stops halfway through a download
// fails it, and dst never holds the whole object.
func TestDownloadCutOff(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	data := randomBytes(12 << 20)
	srv.PutObject(t, bucket, "clip.mp4", data)
	store, proxy := proxied(t, srv)
	location := "s3://" + bucket + "/clip.mp4"

	proxy.StopAfter(faultproxy.Downstream, int64(len(data)/2))
	dst := &memWriterAt{buf: make([]byte, len(data))}
	n, err := store.Download(testContext(t), location, dst)
	wantErr(t, "Download cut off halfway", err, nil, location)
	t.Logf("Download: %d, %v", n, err)
	if bytes.Equal(dst.bytes(), data) {
		t.Error("dst holds the whole object after a download cut off halfway")
	}
}

// TestPutCutOff: a server that stops halfway through an upload fails it,
// and once it is back the object does not exist.
func TestPutCutOff(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	for _, size := range []int{3 << 20, 20 << 20} { // PutObject, multipart
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			store, proxy := proxied(t, srv)
			key := fmt.Sprintf("out/%d.mp4", size)
			location := "s3://" + bucket + "/" + key
			ctx := testContext(t)

			proxy.StopAfter(faultproxy.Upstream, int64(size/2))
			err := store.Put(ctx, location, bytes.NewReader(randomBytes(size)), int64(size))
			wantErr(t, "Put cut off halfway", err, nil, location)
			t.Logf("Put: %v", err)
			proxy.Resume()
			wantNoObject(ctx, t, srv.Client, bucket, key)
		})
	}
}

// TestPutCancelled: a multipart upload whose context is cancelled halfway
// fails, and is aborted all the same: no object, no upload left.
func TestPutCancelled(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	store := newStore(srv)
	data := randomBytes(24 << 20)
	location := "s3://" + bucket + "/out/cancelled.mp4"

	ctx, cancel := context.WithCancel(testContext(t))
	src := &cancelAt{r: bytes.NewReader(data), at: 12 << 20, cancel: cancel}
	err := store.Put(ctx, location, src, int64(len(data)))
	wantErr(t, "Put cancelled halfway", err, context.Canceled, location)
	t.Logf("Put: %v", err)

	check := testContext(t)
	wantNoObject(check, t, srv.Client, bucket, "out/cancelled.mp4")
	out, err := srv.Client.ListMultipartUploads(check, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		t.Errorf("multipart upload %s of %s left behind", aws.ToString(u.UploadId), aws.ToString(u.Key))
	}
}

// cancelAt is a source that calls cancel once a read reaches offset at.
type cancelAt struct {
	r      io.ReaderAt
	at     int64
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) >= c.at {
		c.once.Do(c.cancel)
	}
	return c.r.ReadAt(p, off)
}
