package store_test

import (
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		in                  string
		scheme, bucket, key string
		local               bool
		job                 string
	}{
		{in: "job.json", key: "job.json", local: true, job: "job"},
		{in: "/srv/jobs/job-42.json", key: "/srv/jobs/job-42.json", local: true, job: "job-42"},
		{in: "file:///srv/jobs/j.json", scheme: "file", key: "/srv/jobs/j.json", local: true, job: "j"},
		{in: "s3://renders/jobs/job-42.json", scheme: "s3", bucket: "renders", key: "jobs/job-42.json", job: "job-42"},
		{in: "S3://renders", scheme: "s3", bucket: "renders", job: "job"},
		{in: "gs://b/", scheme: "gs", bucket: "b", job: "job"},
		{in: "s3:///key.json", scheme: "s3", key: "key.json", job: "key"},
		{in: "https://example.com:8443/a/spec.v2.json?sig=x#f", scheme: "https", bucket: "example.com:8443", key: "a/spec.v2.json?sig=x#f", job: "spec.v2"},
		{in: "s3://renders/jobs/a%20b.json?x=1", scheme: "s3", bucket: "renders", key: "jobs/a%20b.json?x=1", job: "a b"},
		{in: "s3://renders/.hidden", scheme: "s3", bucket: "renders", key: ".hidden", job: "job"},
		{in: ".hidden", key: ".hidden", local: true, job: "job"},
		{in: "jobs/", key: "jobs/", local: true, job: "jobs"},
		{in: "://x", key: "://x", local: true, job: "x"},
		{in: "a b://x/y", key: "a b://x/y", local: true, job: "y"},
	} {
		l := store.ParseLocation(tc.in)
		if l.Scheme != tc.scheme || l.Bucket != tc.bucket || l.Key != tc.key || l.Local() != tc.local || l.String() != tc.in {
			t.Errorf("ParseLocation(%q) = {%q %q %q local %v}, want {%q %q %q local %v}",
				tc.in, l.Scheme, l.Bucket, l.Key, l.Local(), tc.scheme, tc.bucket, tc.key, tc.local)
		}
		if got := l.JobName(); got != tc.job {
			t.Errorf("ParseLocation(%q).JobName() = %q, want %q", tc.in, got, tc.job)
		}
	}
}

func TestSplitBucket(t *testing.T) {
	for _, tc := range []struct{ in, bucket, key, err string }{
		{in: "s3://b/k/part", bucket: "b", key: "k/part"},
		{in: "gs://b", bucket: "b"},
		{in: "/local/path", err: "not a bucket location: /local/path"},
		{in: "s3:///k", err: "no bucket in s3:///k"},
	} {
		b, k, err := store.SplitBucket(tc.in)
		if b != tc.bucket || k != tc.key || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("SplitBucket(%q) = %q, %q, %v; want %q, %q, %q", tc.in, b, k, err, tc.bucket, tc.key, tc.err)
		}
	}
}

// FuzzParseLocation: any jobPath parses, and a location with a scheme is
// its scheme, bucket and key put back together.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://b/k", "file:///x", "https://h/p?q", "rel/x.json", "Gs://B", "x://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := store.ParseLocation(s)
		if l.String() != s {
			t.Fatalf("String() = %q, want %q", l.String(), s)
		}
		if l.Scheme != strings.ToLower(l.Scheme) {
			t.Fatalf("scheme %q is not lower case", l.Scheme)
		}
		if l.Scheme != "" && l.Scheme != "file" {
			back := l.Scheme + "://" + l.Bucket
			if l.Key != "" || strings.HasPrefix(s[len(l.Scheme)+3+len(l.Bucket):], "/") {
				back += "/" + l.Key
			}
			if !strings.EqualFold(back, s) || back[len(l.Scheme):] != s[len(l.Scheme):] {
				t.Fatalf("%q put back together is %q", s, back)
			}
		}
		_ = l.JobName()
	})
}
