package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
)

// s3Bench is the S3 store on moto_server, and the transfer manager with
// its default options on the same client as the baseline.
func s3Bench(ctx context.Context, moto *s3test.Server, bucket string) (*storeBench, error) {
	client := moto.Client
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: ptr(bucket)}); err != nil {
		return nil, err
	}
	tm := transfermanager.New(client)
	upload := func(ctx context.Context, file, key string) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: ptr(bucket), Key: ptr(key), Body: f})
		return err
	}
	return &storeBench{
		name: "S3 (moto_server)", scheme: "s3", bucket: bucket,
		store: s3store.New(s3store.WithClient(client)),
		put:   func(ctx context.Context, key, file string) error { return upload(ctx, file, key) },
		rawDownload: func(ctx context.Context, prefix, dir string) error {
			defer os.RemoveAll(dir)
			_, err := tm.DownloadDirectory(ctx, &transfermanager.DownloadDirectoryInput{
				Bucket: ptr(bucket), KeyPrefix: ptr(prefix + "/"), Destination: ptr(filepath.Join(dir, "d")),
			})
			return err
		},
		rawUpload: upload,
	}, nil
}

func ptr[T any](v T) *T { return &v }
