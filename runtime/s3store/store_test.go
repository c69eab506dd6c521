package s3store_test

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	spec := []byte(`{"id": "job-42", "chunks": []}`)
	srv.PutObject(t, bucket, "jobs/job-42.json", spec)
	st := newStore(srv)

	for _, tc := range []struct {
		name, location string
		want           []byte
		err            error // nil: any error when want is nil
	}{
		{name: "existing key", location: "s3://" + bucket + "/jobs/job-42.json", want: spec},
		{name: "missing key", location: "s3://" + bucket + "/jobs/job-43.json", err: store.ErrNotFound},
		{name: "missing bucket", location: "s3://no-such-bucket-helios/job.json", err: store.ErrNotFound},
		{name: "no key", location: "s3://" + bucket},
		{name: "a folder", location: "s3://" + bucket + "/jobs/", err: store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			r, err := st.Open(ctx, tc.location)
			if tc.want == nil {
				wantErr(t, "Open", err, tc.err, tc.location)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("Open(%s) read %q, %v; want %q", tc.location, got, err, tc.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	contents := map[string][]byte{
		"job.json":               []byte("{}"),
		"assets/":                nil, // folder placeholders, as the console makes them
		"assets/img/":            nil,
		"empty/":                 nil,
		"assets/logo.png":        []byte("png"),
		"assets/img/bg.jpg":      []byte("jpeg!"),
		"assets/fonts/Inter.ttf": make([]byte, 1000),
		"assets/a b+c%.txt":      []byte("x"),
		"assets2/not-this.png":   []byte("no"),
		"assetsx":                []byte("no"),
	}
	srv.PutObjects(t, bucket, contents)
	assets := map[string]int64{
		"logo.png":        3,
		"img/bg.jpg":      5,
		"fonts/Inter.ttf": 1000,
		"a b+c%.txt":      1,
	}
	whole := map[string]int64{"job.json": 2, "assets2/not-this.png": 2, "assetsx": 2}
	for k, v := range assets {
		whole["assets/"+k] = v
	}
	st := newStore(srv)

	for _, tc := range []struct {
		name, location string
		want           map[string]int64
		err            error
	}{
		{name: "folder", location: "s3://" + bucket + "/assets", want: assets},
		{name: "folder with a slash", location: "s3://" + bucket + "/assets/", want: assets},
		{name: "nested folder", location: "s3://" + bucket + "/assets/img", want: map[string]int64{"bg.jpg": 5}},
		{name: "empty folder", location: "s3://" + bucket + "/empty", want: map[string]int64{}},
		{name: "no such folder", location: "s3://" + bucket + "/nothing", want: map[string]int64{}},
		{name: "whole bucket", location: "s3://" + bucket, want: whole},
		{name: "whole bucket with a slash", location: "s3://" + bucket + "/", want: whole},
		{name: "missing bucket", location: "s3://no-such-bucket-helios/assets", err: store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			objs, err := st.List(ctx, tc.location)
			if tc.err != nil {
				wantErr(t, "List", err, tc.err, tc.location)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, o := range objs {
				got[o.Path] = o.Size
				// Version is the ETag: of a single-part object, its MD5.
				key := strings.TrimSuffix(strings.TrimPrefix(tc.location, "s3://"+bucket), "/")
				data := contents[strings.TrimPrefix(key+"/", "/")+o.Path]
				if want := fmt.Sprintf("%q", fmt.Sprintf("%x", md5.Sum(data))); o.Version != want {
					t.Errorf("%s: Version %s, want the ETag %s", o.Path, o.Version, want)
				}
			}
			if len(got) != len(objs) || !maps.Equal(got, tc.want) {
				t.Errorf("List(%s) = %v, want %v", tc.location, objs, tc.want)
			}
		})
	}
}

// TestListPages lists a folder of more than one page (1,000 keys). It
// does not run in parallel: moto takes about 200 PUTs a second, fewer
// while the other tests upload.
func TestListPages(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	const n = 1001 // one more than a page
	objs := map[string][]byte{"frames2/not-this": nil}
	for i := range n {
		objs[fmt.Sprintf("frames/%04d.png", i)] = []byte(strings.Repeat("x", i%7))
	}
	start := time.Now()
	srv.PutObjects(t, bucket, objs)
	t.Logf("%d objects put in %v", len(objs), time.Since(start).Round(time.Millisecond))

	listed, err := newStore(srv).List(testContext(t), "s3://"+bucket+"/frames")
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != n {
		t.Fatalf("listed %d objects, want %d", len(listed), n)
	}
	paths := make([]string, n)
	for i, o := range listed {
		paths[i] = o.Path
		if want := int64(len(objs["frames/"+o.Path])); o.Size != want {
			t.Errorf("%s: size %d, want %d", o.Path, o.Size, want)
		}
	}
	slices.Sort(paths)
	for i, p := range paths {
		if want := fmt.Sprintf("%04d.png", i); p != want {
			t.Fatalf("listed paths[%d] = %s, want %s", i, p, want)
		}
	}
}
