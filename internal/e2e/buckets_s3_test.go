package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestBucketsLambda renders through the aws example's bootstrap, under the
// Lambda Runtime Interface Emulator, against moto_server's S3.
func TestBucketsLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the emulator; skipped with -short")
	}
	srv := s3test.Shared(t)
	for _, b := range []string{jobsBucket, outBucket} {
		srv.CreateBucket(t, b)
	}
	w := s3World(t, srv, s3test.AccessKeyID, s3test.SecretAccessKey)
	testBuckets(t, w)
	// The emulator runs one invocation at a time, as Lambda runs one per
	// instance: no two chunks at once here.
	t.Run("asset cache", func(t *testing.T) { testCache(t, w, false) })
	t.Run("hardening", func(t *testing.T) { testHardening(t, w) })
}

// TestBucketsLambdaAccessDenied runs the worker with credentials that may
// read the job bucket but not the output bucket, on a moto_server that
// checks IAM: reading elsewhere, and the upload, are refused.
func TestBucketsLambdaAccessDenied(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the emulator; skipped with -short")
	}
	srv := s3test.Start(t)
	for _, b := range []string{jobsBucket, outBucket, "helios-private"} {
		srv.CreateBucket(t, b)
	}
	srv.PutObject(t, jobsBucket, "jobs/small.json", []byte(`{"chunks":[{"id":0,"outputFile":"o.txt","command":"sh -c 'echo small > o.txt'"}]}`))
	srv.PutObject(t, "helios-private", "job.json", []byte(`{"chunks":[]}`))
	key, secret := srv.CreateUser(t, "worker", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::helios-jobs","arn:aws:s3:::helios-jobs/*"]}]}`)
	srv.EnableAuth(t)
	w := s3World(t, srv, key, secret)
	call := w.start(t, w.addr, t.TempDir(), worker.EnvOutputURL+"="+w.url(outBucket, "renders"))
	ctx := testdeadline.Context(t)
	for _, tc := range []struct{ jobPath, want string }{
		{"s3://helios-private/job.json", "reading job spec s3://helios-private/job.json"},
		{"s3://helios-jobs/jobs/small.json", "uploading o.txt to s3://helios-out/renders/o.txt"},
	} {
		r, err := call(ctx, jobspec.Request{JobPath: tc.jobPath})
		if err != nil || r.StatusCode != 500 || !strings.Contains(r.Message, tc.want) || !strings.Contains(r.Message, "access denied") {
			t.Errorf("%s: %+v, %v; want a 500 saying %q and access denied", tc.jobPath, r, err, tc.want)
		}
	}
}

// s3World is moto_server and the aws example's worker, signing with the
// given credentials.
func s3World(t *testing.T, srv *s3test.Server, key, secret string) *bucketWorld {
	admin := srv.Client
	return &bucketWorld{
		scheme: "s3",
		addr:   strings.TrimPrefix(srv.Endpoint, "http://"),
		put:    func(t *testing.T, bucket, k string, data []byte) { srv.PutObject(t, bucket, k, data) },
		get: func(t *testing.T, bucket, k string) ([]byte, bool) {
			ctx := testdeadline.Context(t)
			out, err := admin.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &k})
			if _, ok := errors.AsType[*types.NoSuchKey](err); ok {
				return nil, false
			}
			if err != nil {
				t.Fatalf("reading s3://%s/%s: %v", bucket, k, err)
			}
			defer out.Body.Close()
			data, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatal(err)
			}
			return data, true
		},
		putGzip: func(t *testing.T, bucket, k string, gz []byte) bool {
			ctx := testdeadline.Context(t)
			_, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k, Body: bytes.NewReader(gz), ContentEncoding: aws.String("gzip")})
			if err != nil {
				t.Fatalf("putting s3://%s/%s gzip-encoded: %v", bucket, k, err)
			}
			return false
		},
		start: func(t *testing.T, addr, root string, env ...string) callFunc {
			env = append([]string{
				"AWS_ENDPOINT_URL_S3=http://" + addr,
				"AWS_REGION=" + s3test.Region,
				"AWS_ACCESS_KEY_ID=" + key,
				"AWS_SECRET_ACCESS_KEY=" + secret,
				"AWS_EC2_METADATA_DISABLED=true",
				s3store.EnvForcePathStyle + "=true",
				worker.EnvWorkspaceRoot + "=" + root,
			}, env...)
			emu := lambdatest.StartT(t, lambdaBinaries(t), lambdatest.Options{Env: env, Dir: root})
			return func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
				inv := emu.Call(ctx, req)
				return inv.Result, inv.Err
			}
		},
	}
}

var lambdaBuild struct {
	once sync.Once
	bins lambdatest.Binaries
	err  error
}

// lambdaBinaries builds the emulator and the aws example's bootstrap,
// once per test binary.
func lambdaBinaries(t *testing.T) lambdatest.Binaries {
	t.Helper()
	lambdaBuild.once.Do(func() {
		bins, err := lambdatest.Build()
		if err != nil {
			lambdaBuild.err = err
			return
		}
		dir, _ := filepath.Abs("examples/aws-lambda")
		bootstrap := filepath.Join(bins.Dir, "example-bootstrap")
		lambdaBuild.err = goRun(dir, []string{"CGO_ENABLED=0"}, "build", "-tags", "lambda.norpc", "-o", bootstrap, "./cmd/render-worker")
		lambdaBuild.bins = lambdatest.Binaries{Dir: bins.Dir, RIE: bins.RIE, Bootstrap: bootstrap}
	})
	if lambdaBuild.err != nil {
		t.Fatalf("building the emulator and the aws example: %v", lambdaBuild.err)
	}
	return lambdaBuild.bins
}
