package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"

	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
)

// gcsBench is the Cloud Storage store on fake-gcs-server, and
// google.golang.org/api/storage/v1 used directly as the baseline: a list,
// then 8 streamed downloads at a time; a resumable upload in the store's
// chunk size (fake-gcs-server copies what it has at each chunk, so that a
// larger chunk would measure the fake, not the client).
func gcsBench(ctx context.Context, fake *fakeGCS, bucket string) (*storeBench, error) {
	svc, err := storage.NewService(ctx, option.WithEndpoint(fake.url()+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		return nil, err
	}
	if _, err := svc.Buckets.Insert("bench", &storage.Bucket{Name: bucket}).Context(ctx).Do(); err != nil {
		return nil, fmt.Errorf("creating bucket %s: %w", bucket, err)
	}
	upload := func(ctx context.Context, file, key string) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = svc.Objects.Insert(bucket, &storage.Object{Name: key}).Media(f, googleapi.ChunkSize(gcsstore.DefaultChunkSize)).Context(ctx).Do()
		return err
	}
	return &storeBench{
		name: "GCS (fake-gcs-server)", scheme: "gs", bucket: bucket,
		store:     gcsstore.New(gcsstore.WithClientOptions(option.WithEndpoint(fake.url()+"/storage/v1/"), option.WithoutAuthentication())),
		put:       func(ctx context.Context, key, file string) error { return upload(ctx, file, key) },
		rawUpload: upload,
		rawDownload: func(ctx context.Context, prefix, dir string) error {
			return gcsDownloadAll(ctx, svc, bucket, prefix, dir)
		},
	}, nil
}

// gcsDownloadAll lists prefix and downloads every object below it into
// dir, 8 at a time.
func gcsDownloadAll(ctx context.Context, svc *storage.Service, bucket, prefix, dir string) error {
	defer os.RemoveAll(dir)
	var names []string
	err := svc.Objects.List(bucket).Prefix(prefix+"/").Pages(ctx, func(l *storage.Objects) error {
		for _, o := range l.Items {
			names = append(names, o.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	jobs := make(chan string)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for name := range jobs {
				errs <- gcsDownload(ctx, svc, bucket, name, filepath.Join(dir, strings.TrimPrefix(name, prefix+"/")))
			}
		})
	}
	for _, n := range names {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func gcsDownload(ctx context.Context, svc *storage.Service, bucket, name, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	resp, err := svc.Objects.Get(bucket, name).Context(ctx).Download()
	if err != nil {
		return fmt.Errorf("gs://%s/%s: %w", bucket, name, err)
	}
	defer resp.Body.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
