package store

import (
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// A Location is a location string read once: a local path, a file://
// URL, a bucket location ("s3://bucket/key", "gs://bucket/key") or a web
// URL. The worker parses a jobPath into one and hands it to the
// allowlist, the source lookup and the job naming; the CLI reads its
// arguments the same way.
type Location struct {
	// Scheme is the URL scheme in lower case: "" for a local path, else
	// "file", "s3", "gs", "http", "https" or any other.
	Scheme string
	// Bucket is what follows "scheme://" up to the next slash: a bucket,
	// or a web URL's host[:port]. "" for a local path and a file:// URL.
	Bucket string
	// Key is the rest: a bucket's object key or a web URL's path and
	// query after the slash that ends Bucket, as written; the path of a
	// local file or a file:// URL.
	Key string

	raw string
	u   *url.URL // a web URL, parsed; nil for other locations or when it does not parse
}

// ParseLocation reads location. It never fails: what a Location cannot
// be used for (a bucket location without a bucket, a web URL that does
// not parse) is found by the code that needs it.
func ParseLocation(location string) Location {
	l := Location{raw: location, Scheme: Scheme(location)}
	switch l.Scheme {
	case "":
		l.Key = location
	case "file":
		l.Key = location[len("file://"):]
	default:
		l.Bucket, l.Key, _ = strings.Cut(location[len(l.Scheme)+len("://"):], "/")
	}
	if l.Scheme == "http" || l.Scheme == "https" { // the allowlist reads a web URL as net/http does
		l.u, _ = url.Parse(location)
	}
	return l
}

// String is the location as it was written.
func (l Location) String() string { return l.raw }

// Local reports whether l is a local path or a file:// URL.
func (l Location) Local() bool { return l.Scheme == "" || l.Scheme == "file" }

// URL is a web location (http://, https://) parsed as net/http reads
// it: nil for other locations and for a URL that does not parse.
func (l Location) URL() *url.URL { return l.u }

// JobName is the name of a job whose spec is at l and has no id: the
// spec's file name without its extension ("s3://b/job-42.json" is
// "job-42"), or "job" when that leaves nothing (".json", ".hidden", a
// folder). A URL's path is read percent-decoded, without its query or
// fragment ("s3://b/a%20b.json?x=1" is "a b").
func (l Location) JobName() string {
	p := l.Key
	if u := l.u; u != nil || l.Scheme != "" { // parsed here for other schemes: only a spec without id asks
		if u == nil {
			u, _ = url.Parse(l.raw)
		}
		if u != nil {
			p = u.Path
		}
	}
	base := path.Base(filepath.ToSlash(p))
	base = strings.TrimSuffix(base, path.Ext(base))
	if base == "" || base == "." || base == "/" {
		return "job"
	}
	return base
}

// Scheme returns the URL scheme of location in lower case, or "" for a
// local path: what comes before "://" when that is a valid scheme.
func Scheme(location string) string {
	i := strings.Index(location, "://")
	if i <= 0 {
		return ""
	}
	s := location[:i]
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(s)
}
