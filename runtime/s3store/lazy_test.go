package s3store_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
)

// TestNewIsLazy: New and Validate neither look up credentials nor
// connect; the first use does both.
func TestNewIsLazy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	creds := &countingCredentials{}
	store := s3store.New(s3store.WithConfig(aws.Config{
		Region:       s3test.Region,
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials:  creds,
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}))
	if err := store.Validate(); err != nil {
		t.Fatal(err)
	}
	if n, c := conns.Load(), creds.calls.Load(); n != 0 || c != 0 {
		t.Fatalf("New and Validate made %d connections and %d credential look-ups, want none", n, c)
	}

	location := "s3://renders/job.json"
	_, err = store.Open(testContext(t), location)
	wantErr(t, "Open from a server that hangs up", err, nil, location)
	if n, c := conns.Load(), creds.calls.Load(); n == 0 || c == 0 {
		t.Errorf("Open made %d connections and %d credential look-ups, want some", n, c)
	}
}

type countingCredentials struct{ calls atomic.Int64 }

func (c *countingCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c.calls.Add(1)
	return aws.Credentials{AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey}, nil
}

// TestEnvironment: with no option, the store takes its credentials,
// region and endpoint from the SDK's variables and path-style addressing
// from HELIOS_S3_FORCE_PATH_STYLE; a malformed value fails the first use,
// naming the variable, and once it is fixed the same store works.
func TestEnvironment(t *testing.T) {
	srv := s3test.Shared(t) // before t.Setenv: no test runs in parallel with this one
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "job.json", []byte("{}"))
	location := "s3://" + bucket + "/job.json"
	// A host name, not an IP address, for which the SDK would put the
	// bucket in the host name (BUCKET.localhost, which does not resolve)
	// unless path style is forced.
	endpoint := strings.Replace(srv.Endpoint, "127.0.0.1", "localhost", 1)

	isolateAWSEnv(t)
	for _, tc := range []struct{ name, s3, global string }{
		{name: "AWS_ENDPOINT_URL_S3", s3: endpoint, global: "http://127.0.0.1:1"},
		{name: "AWS_ENDPOINT_URL", global: endpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, "AWS_ENDPOINT_URL_S3", tc.s3)
			setenv(t, "AWS_ENDPOINT_URL", tc.global)
			open := func(store *s3store.Store) error {
				r, err := store.Open(testContext(t), location)
				if err == nil {
					_, err = io.Copy(io.Discard, r)
					r.Close()
				}
				return err
			}

			t.Setenv(s3store.EnvForcePathStyle, "yes please")
			store := s3store.New()
			for what, err := range map[string]error{"Validate": store.Validate(), "Open": open(store)} {
				if err == nil || !strings.Contains(err.Error(), s3store.EnvForcePathStyle+"=yes please") {
					t.Errorf("%s with a malformed %s: %v, want an error naming it", what, s3store.EnvForcePathStyle, err)
				}
			}
			t.Setenv(s3store.EnvForcePathStyle, "true")
			if err := store.Validate(); err != nil {
				t.Error(err)
			}
			if err := open(store); err != nil {
				t.Errorf("Open once %s is fixed: %v", s3store.EnvForcePathStyle, err)
			}
		})
	}
}

// isolateAWSEnv sets the SDK's variables for the test: static
// credentials, the region, and no shared files, profile or instance
// metadata.
func isolateAWSEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                   s3test.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":               s3test.SecretAccessKey,
		"AWS_REGION":                          s3test.Region,
		"AWS_CONFIG_FILE":                     filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":         filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":           "true",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_PROFILE":                         "",
		"AWS_DEFAULT_REGION":                  "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
	} {
		setenv(t, k, v)
	}
}

// setenv sets key to value for the test; an empty value unsets it.
func setenv(t *testing.T, key, value string) {
	t.Setenv(key, value) // restores the old value at the end
	if value == "" {
		os.Unsetenv(key)
	}
}
