package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// workerPolicy is the IAM policy that the package doc asks for: read the
// job bucket, write below its output prefix.
const workerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%[1]s/*"},
	{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%[1]s"},
	{"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "arn:aws:s3:::%[1]s/out/*"}]}`

// TestAccessDenied runs a moto of its own that checks signatures and IAM
// policies as AWS does: the documented permissions are enough for every
// operation, and refused credentials or permissions wrap ErrAccessDenied.
func TestAccessDenied(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "job.json", []byte(`{}`))
	srv.PutObject(t, bucket, "assets/logo.png", []byte("png"))
	adminID, adminSecret := srv.CreateUser(t, "admin", `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`)
	workerID, workerSecret := srv.CreateUser(t, "worker", fmt.Sprintf(workerPolicy, bucket))
	nobodyID, nobodySecret := srv.CreateUser(t, "nobody", "")
	srv.EnableAuth(t)
	admin := srv.NewClient(adminID, adminSecret)

	newStore := func(id, secret string) *s3store.Store {
		cfg := testConfig(srv, srv.Endpoint)
		cfg.Credentials = srv.Config(id, secret).Credentials
		return s3store.New(s3store.WithConfig(cfg))
	}
	stores := []struct {
		name  string
		store *s3store.Store
		err   error // of every operation below but "put elsewhere"
	}{
		{"documented permissions", newStore(workerID, workerSecret), nil},
		{"no permissions", newStore(nobodyID, nobodySecret), store.ErrAccessDenied},
		{"unknown key", newStore("AKIAHELIOSUNKNOWN000", "secret"), store.ErrAccessDenied},
		{"wrong secret", newStore(workerID, "not-"+workerSecret), store.ErrAccessDenied},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, op := range operations(bucket, strings.ReplaceAll(st.name, " ", "-")) {
				ctx := testContext(t)
				err := op.run(ctx, st.store)
				want := st.err
				if op.name == "put elsewhere" && st.err == nil {
					want = store.ErrAccessDenied
				}
				if want == nil && err != nil {
					t.Errorf("%s: %v", op.name, err)
				}
				if want != nil {
					wantErr(t, op.name, err, want, op.location)
					t.Logf("%s: %v", op.name, err)
				}
				if op.put != "" && want != nil {
					wantNoObject(ctx, t, admin, bucket, op.put)
				}
			}
		})
	}
}

type operation struct {
	name, location string
	put            string // the key that a Put writes
	run            func(context.Context, *s3store.Store) error
}

// operations are one call of each method, and a Put outside the output
// prefix that the documented permissions do not allow; the Puts write
// below the folder tag.
func operations(bucket, tag string) []operation {
	loc := func(key string) string { return "s3://" + bucket + "/" + key }
	put := func(name, key string, size int) operation {
		return operation{name: name, location: loc(key), put: key, run: func(ctx context.Context, s *s3store.Store) error {
			return s.Put(ctx, loc(key), bytes.NewReader(make([]byte, size)), int64(size))
		}}
	}
	return []operation{
		{name: "open", location: loc("job.json"), run: func(ctx context.Context, s *s3store.Store) error {
			r, err := s.Open(ctx, loc("job.json"))
			if err == nil {
				_, err = io.Copy(io.Discard, r)
				r.Close()
			}
			return err
		}},
		// The whole bucket: moto 5.2 fails the signature check of any
		// listing whose prefix has a slash (SignatureDoesNotMatch).
		{name: "list", location: "s3://" + bucket, run: func(ctx context.Context, s *s3store.Store) error {
			_, err := s.List(ctx, "s3://"+bucket)
			return err
		}},
		{name: "download", location: loc("assets/logo.png"), run: func(ctx context.Context, s *s3store.Store) error {
			_, err := s.Download(ctx, loc("assets/logo.png"), &memWriterAt{buf: make([]byte, 3)})
			return err
		}},
		put("put", "out/"+tag+"/0.mp4", 1000),
		put("multipart put", "out/"+tag+"/1.mp4", 6<<20),
		put("put elsewhere", "elsewhere/"+tag+"/0.mp4", 1000),
	}
}
