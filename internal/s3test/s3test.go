// Package s3test runs moto_server, an emulator that speaks the real S3
// protocol, on a loopback port for the tests of the S3 store.
//
// A test package starts one shared server, since moto takes a second or
// two to start:
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := s3test.Shared(t)
//		bucket := srv.NewBucket(t)
//		srv.PutObject(t, bucket, "job.json", []byte(`{}`))
//		...
//	}
//
// A test that changes the server as a whole (EnableAuth) starts one of its
// own with Start. When moto_server is not on PATH, Shared and Start skip
// the test, saying so; with HELIOS_REQUIRE_MOTO=1 (as CI sets it) they
// fail it instead.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// The region and the static credentials of [Server.Client]. While auth is
// off (the default) moto accepts any credentials.
const (
	Region          = "us-east-1"
	AccessKeyID     = "helios-test"
	SecretAccessKey = "helios-test-secret"
)

// EnvRequire names the variable that, set to 1, turns a missing
// moto_server from a skip into a failure.
const EnvRequire = "HELIOS_REQUIRE_MOTO"

// readyTimeout bounds the wait for a new moto_server to answer: a
// guard against a server that never does, generous because Python takes
// its time to start on a loaded machine.
const readyTimeout = 2 * time.Minute

// Server is a running moto_server.
type Server struct {
	// Endpoint is the server's address, http://127.0.0.1:PORT.
	Endpoint string
	// Client is an S3 client for Endpoint with path-style addressing and
	// the static test credentials.
	Client *s3.Client

	proc    *motoProcess
	shared  bool
	buckets atomic.Int64
}

var shared struct {
	run  bool // Run is running the tests
	once sync.Once
	srv  *Server
	err  error
}

// Run runs the package's tests, stops the shared server if a test started
// one, and returns the exit code for os.Exit. Call it from TestMain.
func Run(m *testing.M) int {
	shared.run = true
	defer func() {
		if shared.srv != nil {
			shared.srv.proc.stop()
		}
	}()
	return m.Run()
}

// Shared returns the package's server, starting it on first use. The
// package's TestMain must call [Run], which stops it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if !shared.run {
		tb.Fatal("s3test.Shared: the package's TestMain must call s3test.Run, which stops the server")
	}
	bin := lookPath(tb)
	shared.once.Do(func() {
		shared.srv, shared.err = start(bin)
		if shared.srv != nil {
			shared.srv.shared = true
		}
	})
	if shared.err != nil {
		tb.Fatalf("s3test: %v", shared.err)
	}
	return shared.srv
}

// Start starts a server of the test's own, stopped when the test ends;
// moto_server's log is shown if the test failed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	srv, err := start(lookPath(tb))
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(func() {
		srv.proc.stop()
		if tb.Failed() {
			tb.Logf("moto_server log (last %d bytes):\n%s", srv.proc.log.max, srv.proc.log.String())
		}
	})
	return srv
}

// lookPath finds moto_server, or skips tb (fails it when EnvRequire=1).
func lookPath(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("moto_server")
	if err == nil {
		return bin
	}
	msg := "moto_server is not on PATH (pip install 'moto[server]'): the S3 tests need it"
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("%s, and %s=1 requires them to run", msg, EnvRequire)
	} else {
		tb.Skipf("%s; skipping (%s=1 makes this a failure)", msg, EnvRequire)
	}
	return ""
}

// New starts a server outside a test, for a bench program; Close stops
// it.
func New() (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not on PATH (pip install 'moto[server]'): %w", err)
	}
	return start(bin)
}

// Close stops a server made by New.
func (s *Server) Close() { s.proc.stop() }

func start(bin string) (*Server, error) {
	proc, err := startMoto(bin, readyTimeout)
	if err != nil {
		return nil, err
	}
	srv := &Server{Endpoint: proc.endpoint, proc: proc}
	srv.Client = srv.NewClient(AccessKeyID, SecretAccessKey)
	return srv, nil
}

// Config returns an aws.Config for the server with the given static
// credentials, for clients that the code under test builds itself.
func (s *Server) Config(accessKeyID, secretAccessKey string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
	}
}

// NewClient returns a path-style S3 client for the server with the given
// static credentials, changed by optFns. It does not log the responses
// whose checksum it cannot check.
func (s *Server) NewClient(accessKeyID, secretAccessKey string, optFns ...func(*s3.Options)) *s3.Client {
	optFns = append([]func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	}}, optFns...)
	return s3.NewFromConfig(s.Config(accessKeyID, secretAccessKey), optFns...)
}

var notBucketChar = regexp.MustCompile(`[^a-z0-9-]+`)

// NewBucket creates a bucket with a name of its own, made from the test's
// name, and returns the name.
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	name := strings.Trim(notBucketChar.ReplaceAllString(strings.ToLower(tb.Name()), "-"), "-")
	name = fmt.Sprintf("t%d-%s", s.buckets.Add(1), name)
	name = strings.TrimRight(name[:min(len(name), 63)], "-")
	s.CreateBucket(tb, name)
	return name
}

// CreateBucket creates the named bucket.
func (s *Server) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("creating bucket %s: %v", name, err)
	}
}

// PutObject stores body as bucket/key.
func (s *Server) PutObject(tb testing.TB, bucket, key string, body []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	if err := s.put(ctx, bucket, key, body); err != nil {
		tb.Fatal(err)
	}
}

// PutObjects stores every key of objects in bucket, 8 at a time: moto
// takes about 200 a second, and no more with more at a time.
func (s *Server) PutObjects(tb testing.TB, bucket string, objects map[string][]byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	keys := make(chan string)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for key := range keys {
				if err := s.put(ctx, bucket, key, objects[key]); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
	go func() {
		defer close(keys)
		for key := range objects {
			select {
			case keys <- key:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
}

func (s *Server) put(ctx context.Context, bucket, key string, body []byte) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("putting s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
