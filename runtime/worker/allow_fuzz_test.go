package worker_test

import (
	"errors"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// FuzzCheckJobPath feeds the matcher an allowlist entry and a jobPath, both
// untrusted. It must not panic; a malformed entry allows nothing; a
// refusal wraps ErrJobPathNotAllowed in one bounded line; and whatever it
// allows must, read independently of allow.go and cleaned, be the entry's
// location or below it at a segment boundary, both as written and
// percent-decoded.
func FuzzCheckJobPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"s3://jobs/", "s3://jobs/job-42.json"},
		{"s3://bucket", "s3://bucket-evil/job.json"},
		{"s3://jobs/team1/", "s3://jobs/team1/../team2/job.json"},
		{"s3://jobs/team1/", "s3://jobs/team1/%2e%2e/team2/job.json"},
		{"s3://jobs/team1/", "s3://jobs/team1%2fjob.json"},
		{"s3://jobs/team1", "s3://jobs/team1"},
		{"gs://jobs/a/b", "GS://jobs/a/b/c"},
		{"https://H.example/jobs/", "https://h.example:443/jobs/x.json?q=1"},
		{"https://h.example/jobs/", "https://h.example@evil.example/jobs/x"},
		{"https://h.example/jobs/", "https://h.example/jobs/a%2f..%2f..%2fx"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/%2E%2E/x"},
		{"https://[::1]:8443/j/", "https://[::1]:8443/j/x"},
		{"file:///srv/jobs/", "/srv/jobs/../other/job.json"},
		{"file:///srv/jobs/", "file:///srv/jobs/a/../job.json"},
		{"file:///", "job.json"},
		{"file:///srv/jobs", "//srv//jobs"},
		{"s3:///x", "s3:///x"},
		{"ftp://x/", "ftp://x/y"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	wd, err := os.Getwd()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, entry, location string) {
		c := worker.DefaultConfig()
		c.AllowedJobPaths = []string{entry}
		err := c.CheckJobPath(location)
		if err != nil {
			if !errors.Is(err, worker.ErrJobPathNotAllowed) {
				t.Fatalf("CheckJobPath(%q) = %v, which does not wrap ErrJobPathNotAllowed", location, err)
			}
			msg := err.Error()
			if len(msg) > 4*256+100+6*len(entry) || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("message of %d bytes, or of several lines: %q", len(msg), msg)
			}
			return
		}
		if c.Validate() != nil {
			t.Fatalf("entry %q does not validate, yet allows %q", entry, location)
		}
		want, ok := oracle(entry, wd)
		got, ok2 := oracle(location, wd)
		if !ok || !ok2 {
			t.Fatalf("entry %q allows %q, which the oracle cannot read (%v, %v)", entry, location, ok, ok2)
		}
		if got.scheme != want.scheme || got.host != want.host {
			t.Fatalf("entry %q (%s %q) allows %q (%s %q)", entry, want.scheme, want.host, location, got.scheme, got.host)
		}
		if !below(got.path, want.path, want.folder) {
			t.Fatalf("entry %q (path %q) allows %q, whose cleaned path is %q", entry, want.path, location, got.path)
		}
		if got.decoded != "" && want.decoded != "" && !below(got.decoded, want.decoded, want.folder) {
			t.Fatalf("entry %q (decoded %q) allows %q, whose decoded path is %q", entry, want.decoded, location, got.decoded)
		}
	})
}

// oracleLoc is a location as the worker's sources read it, worked out
// without allow.go's code.
type oracleLoc struct {
	scheme, host  string
	path, decoded string // cleaned; decoded is "" when the escapes are malformed
	folder        bool   // the path as written ends with "/" or is empty
}

func oracle(loc, wd string) (oracleLoc, bool) {
	var o oracleLoc
	p := loc
	s, rest, found := strings.Cut(loc, "://")
	if !found || s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
	}) {
		s = "" // a local path, as the worker opens it
	}
	switch o.scheme = strings.ToLower(s); o.scheme {
	case "":
		o.scheme = "file"
	case "file":
		p = rest
	case "s3", "gs":
		o.host, p, _ = strings.Cut(rest, "/")
		p = "/" + p
	case "http", "https":
		u, err := url.Parse(loc)
		if err != nil {
			return o, false
		}
		o.host = strings.ToLower(u.Hostname())
		if port := u.Port(); port != "" && !(o.scheme == "http" && port == "80") && !(o.scheme == "https" && port == "443") {
			o.host = "[" + o.host + "]:" + port
			if !strings.Contains(u.Hostname(), ":") {
				o.host = strings.ToLower(u.Hostname()) + ":" + port
			}
		}
		p = "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	default:
		return o, false
	}
	if o.scheme == "file" && !strings.HasPrefix(p, "/") {
		p = wd + "/" + p
	}
	o.folder = strings.HasSuffix(p, "/") || p == ""
	o.path = path.Clean("/" + p)
	if d, err := url.PathUnescape(p); err == nil {
		o.decoded = path.Clean("/" + d)
	}
	return o, true
}

// below reports whether p is pre, when pre is not a folder, or below pre
// at a segment boundary.
func below(p, pre string, folder bool) bool {
	if p == pre {
		return !folder
	}
	return strings.HasPrefix(p, strings.TrimSuffix(pre, "/")+"/")
}
