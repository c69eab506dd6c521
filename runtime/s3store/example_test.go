package s3store_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The generated main.go of an AWS worker wires the store for s3://
// locations: job specs, asset folders and outputs.
func Example() {
	cfg := worker.ConfigFromEnv()
	store := s3store.New() // no client, no call until a location needs one
	if err := store.Validate(); err != nil {
		log.Fatal(err)
	}
	w := worker.New(cfg, worker.WithDefaultSource("s3", store))
	_ = w // w.Run(ctx, payload) for each invocation
}

// A malformed HELIOS_S3_FORCE_PATH_STYLE is reported by Validate, before
// any use, and by the first use.
func ExampleStore_Validate() {
	old, set := os.LookupEnv(s3store.EnvForcePathStyle)
	defer func() {
		if set {
			os.Setenv(s3store.EnvForcePathStyle, old)
		} else {
			os.Unsetenv(s3store.EnvForcePathStyle)
		}
	}()

	os.Setenv(s3store.EnvForcePathStyle, "yes")
	fmt.Println(s3store.New().Validate())
	// Output: HELIOS_S3_FORCE_PATH_STYLE=yes: want true or false
}

// A store with a configuration of its own: another region, say, or
// credentials from a named profile.
func ExampleWithConfig() {
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("eu-west-1"),
		config.WithSharedConfigProfile("renders"),
	)
	if err != nil {
		log.Fatal(err)
	}
	store := s3store.New(s3store.WithConfig(cfg))
	_ = worker.New(worker.ConfigFromEnv(), worker.WithSource("s3", store))
}

// A store on a client built elsewhere, here for a MinIO server.
func ExampleWithClient() {
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://minio.internal:9000"),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("minioadmin", "minioadmin", ""),
	})
	store := s3store.New(s3store.WithClient(client))
	_ = worker.New(worker.ConfigFromEnv(), worker.WithSource("s3", store))
}

// Uploading a file: the store streams it, 5 MiB at a time past the first
// 5 MiB, and the object appears only once it is whole.
func ExampleStore_Put() {
	f, err := os.Open("chunk_3.mp4")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	store := s3store.New()
	if err := store.Put(context.Background(), "s3://renders/job-42/out/chunk_3.mp4", f, info.Size()); err != nil {
		log.Fatal(err)
	}
}
