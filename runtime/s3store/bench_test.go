package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"

	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// BenchmarkPut uploads 64 MiB to moto through the store and through
// transfermanager with its defaults. moto, not the client, sets the
// pace; B/op is the memory that one upload allocates.
func BenchmarkPut(b *testing.B) {
	srv := s3test.Shared(b)
	bucket := srv.NewBucket(b)
	data := randomBytes(64 << 20)
	store := newStore(srv)
	tm := transfermanager.New(srv.Client)
	for _, bc := range []struct {
		name string
		put  func(ctx context.Context, key string) error
	}{
		{"store", func(ctx context.Context, key string) error {
			return store.Put(ctx, "s3://"+bucket+"/"+key, bytes.NewReader(data), int64(len(data)))
		}},
		{"transfermanager-defaults", func(ctx context.Context, key string) error {
			_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := bc.put(b.Context(), fmt.Sprintf("bench/%s/%d", bc.name, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
