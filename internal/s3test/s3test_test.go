package s3test_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

func TestMain(m *testing.M) { os.Exit(s3test.Run(m)) }

func TestSharedServer(t *testing.T) {
	srv := s3test.Shared(t)
	if again := s3test.Shared(t); again != srv {
		t.Fatal("Shared started a second server")
	}
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "a/b.txt", []byte("helios"))
	objs := map[string][]byte{}
	for i := range 40 {
		objs[fmt.Sprintf("many/%02d", i)] = []byte{byte(i)}
	}
	srv.PutObjects(t, bucket, objs)

	ctx := testdeadline.Context(t)
	if got := get(ctx, t, srv.Client, bucket, "a/b.txt"); got != "helios" {
		t.Errorf("a/b.txt = %q, want %q", got, "helios")
	}
	out, err := srv.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("many/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != len(objs) {
		t.Errorf("listed %d objects under many/, want %d", len(out.Contents), len(objs))
	}
	if other := srv.NewBucket(t); other == bucket {
		t.Errorf("NewBucket returned %s twice", bucket)
	}
}

// TestAuth: with auth on, moto refuses unknown keys and allows a user
// what its policy allows, no more.
func TestAuth(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "k", []byte("v"))
	policy := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*"}]}`, bucket)
	id, secret := srv.CreateUser(t, "reader", policy)
	srv.EnableAuth(t)

	ctx := testdeadline.Context(t)
	reader := srv.NewClient(id, secret)
	if got := get(ctx, t, reader, bucket, "k"); got != "v" {
		t.Errorf("the reader got %q, want %q", got, "v")
	}
	_, err := reader.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	wantCode(t, "a listing by the reader", err, "AccessDenied")
	_, err = srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k")})
	wantCode(t, "a GET with keys moto does not know", err, "InvalidAccessKeyId")
}

func get(ctx context.Context, t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Errorf("%s: %v, want the error code %s", what, err, code)
	}
}
