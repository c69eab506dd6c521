package worker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// ErrJobPathNotAllowed is wrapped by the error of a jobPath that is outside
// every location of Config.AllowedJobPaths ($HELIOS_ALLOWED_JOB_PATHS): the
// platforms answer it with 403, before anything is fetched.
var ErrJobPathNotAllowed = errors.New("job path not allowed")

// CheckJobPath returns nil when Config.AllowedJobPaths is empty or location
// is inside one of its prefixes, as [Config.CheckJobPath] decides.
func (w *Worker) CheckJobPath(location string) error {
	return w.checkJobPath(store.ParseLocation(location))
}

// checkJobPath is CheckJobPath of a parsed location, against the
// prefixes that New parsed once.
func (w *Worker) checkJobPath(loc store.Location) error {
	return checkPrefixes(w.allowed, w.cfg.AllowedJobPaths, loc)
}

// CheckJobPath returns nil when c.AllowedJobPaths is empty or location (any
// jobPath form) is inside one of its prefixes; otherwise an error that wraps
// [ErrJobPathNotAllowed] and names location, shortened, and the variable.
//
// Location and prefixes are compared as the worker reads them: a local path
// or file:// URL as an absolute path (a relative one below the working
// directory), cleaned of ".", ".." and "//" as the kernel resolves them
// (links are not followed); s3:// and gs:// as a bucket, compared exactly,
// and a key; http:// and https:// as the HTTP client parses them, with the
// host in any case and without its default port. The scheme may be in any
// case. A prefix matches whole path segments: s3://jobs/a/ holds
// s3://jobs/a/x.json, not s3://jobs/ab/x.json nor s3://jobs-evil/a/x.json;
// a prefix that ends with "/" (or a bare bucket or host) is a folder that
// the location must be below, and one without also matches itself. The
// path must match both as written and percent-decoded, so that %2e%2e and
// %2f cannot move it across a boundary; outside local paths, an empty, "."
// or ".." segment, as written or decoded, is refused whatever it resolves
// to, since stores and servers differ on what it means. The query of an
// http(s) URL is not matched.
func (c Config) CheckJobPath(location string) error {
	return checkPrefixes(parsePrefixes(c.AllowedJobPaths), c.AllowedJobPaths, store.ParseLocation(location))
}

// parsePrefixes parses the entries of AllowedJobPaths, leaving out those
// that Validate refuses.
func parsePrefixes(entries []string) []prefix {
	var list []prefix
	for _, entry := range entries {
		if p, err := parsePrefix(entry); err == nil {
			list = append(list, p)
		}
	}
	return list
}

// checkPrefixes is nil when entries is empty or loc is inside one of
// list, the parsed entries.
func checkPrefixes(list []prefix, entries []string, loc store.Location) error {
	if len(entries) == 0 {
		return nil
	}
	if pl, ok := placeOf(loc); ok {
		for _, p := range list {
			if p.holds(pl) {
				return nil
			}
		}
	}
	return &jobPathError{location: loc.String(), allowed: entries}
}

// jobPathError is a jobPath refused by CheckJobPath.
type jobPathError struct {
	location string
	allowed  []string
}

// maxQuotedPath bounds the part of a refused jobPath that its error
// quotes: the caller chose it, as long as the request allows.
const maxQuotedPath = 256

func (e *jobPathError) Error() string {
	loc := e.location
	if len(loc) > maxQuotedPath {
		cut := maxQuotedPath
		for cut > 0 && !utf8.RuneStart(loc[cut]) {
			cut--
		}
		loc = loc[:cut] + "…"
	}
	allowed := make([]string, len(e.allowed))
	for i, a := range e.allowed {
		if allowed[i] = a; hasControl(a) { // refused by Validate, but kept to one line
			allowed[i] = strconv.Quote(a)
		}
	}
	return fmt.Sprintf("job path %q is outside %s (%s)", loc, EnvAllowedJobPaths, strings.Join(allowed, ", "))
}

func (e *jobPathError) Unwrap() error { return ErrJobPathNotAllowed }

// splitAllowedJobPaths reads the comma-separated list of
// $HELIOS_ALLOWED_JOB_PATHS, without spaces around entries or empty ones.
func splitAllowedJobPaths(v string) []string {
	var list []string
	for e := range strings.SplitSeq(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			list = append(list, e)
		}
	}
	return list
}

// checkAllowedJobPaths reports every malformed entry of list.
func checkAllowedJobPaths(list []string) error {
	var errs []error
	for _, entry := range list {
		if _, err := parsePrefix(entry); err != nil {
			errs = append(errs, fmt.Errorf("%s entry %q: %w", EnvAllowedJobPaths, entry, err))
		}
	}
	return errors.Join(errs...)
}

// place is a location reduced to what the matching compares.
type place struct {
	scheme string // file, s3, gs, http or https
	host   string // the bucket; host[:port] for http(s); "" for file
	// raw and decoded are the path's segments, as written and
	// percent-decoded; both must be inside a prefix.
	raw, decoded []string
}

// prefix is one parsed entry of AllowedJobPaths.
type prefix struct {
	place
	folder bool // a location must be below it, not the prefix itself
}

// holds reports whether loc is inside p.
func (p prefix) holds(loc place) bool {
	return loc.scheme == p.scheme && loc.host == p.host &&
		within(loc.raw, p.raw, p.folder) && within(loc.decoded, p.decoded, p.folder)
}

// within reports whether segs starts with pre, and goes further when
// folder is set.
func within(segs, pre []string, folder bool) bool {
	n := len(pre)
	if folder {
		n++
	}
	if len(segs) < n {
		return false
	}
	for i, s := range pre {
		if segs[i] != s {
			return false
		}
	}
	return true
}

// placeOf reduces a jobPath to a place, or reports false for one that
// no prefix may hold.
func placeOf(loc store.Location) (place, bool) {
	switch s := loc.Scheme; s {
	case "", "file":
		p := loc.Key // as store.FileSource reads it
		if !strings.HasPrefix(p, "/") {
			wd, err := os.Getwd()
			if err != nil {
				return place{}, false
			}
			p = filepath.ToSlash(wd) + "/" + p
		}
		cleaned := path.Clean(p)
		decoded := cleaned
		if d, err := url.PathUnescape(p); err == nil {
			decoded = path.Clean(d)
		}
		return place{scheme: "file", raw: segments(cleaned), decoded: segments(decoded)}, true
	case "s3", "gs":
		if loc.Bucket == "" {
			return place{}, false
		}
		return storePlace(s, loc.Bucket, "/"+loc.Key)
	case "http", "https":
		u := loc.URL()
		if u == nil || u.Host == "" {
			return place{}, false
		}
		return storePlace(s, webHost(u), u.EscapedPath())
	}
	return place{}, false
}

// storePlace is a place of a bucket or web server, whose path p has no
// empty, "." or ".." segment, no backslash and no control character, as
// written and percent-decoded: what such a segment means depends on the
// store or server, so none is taken as inside.
func storePlace(scheme, host, p string) (place, bool) {
	d, err := url.PathUnescape(p)
	if err != nil || strings.ContainsRune(d, '\\') || hasControl(d) {
		return place{}, false
	}
	loc := place{scheme: scheme, host: host, raw: segments(p), decoded: segments(d)}
	for _, segs := range [][]string{loc.raw, loc.decoded} {
		for _, s := range segs {
			if s == "" || s == "." || s == ".." {
				return place{}, false
			}
		}
	}
	return loc, true
}

// webHost is u's host in lower case, without the scheme's default port.
func webHost(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" || (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		return host
	}
	return net.JoinHostPort(host, port)
}

// segments splits an absolute path into its segments: "/a/b/" and "/a/b"
// are [a b], "/" and "" are none, and "//a" is ["" a].
func segments(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// bucketName is loose on purpose: S3's and Cloud Storage's rules differ,
// and the store refuses what its platform does not have.
var bucketName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// parsePrefix parses an entry of AllowedJobPaths, which must name a clean
// location: file:///DIR/, s3://BUCKET/PREFIX/, gs://BUCKET/PREFIX/ or
// http(s)://HOST/PATH/, without ".", ".." or empty segments, encoded
// slashes, a query or a fragment.
func parsePrefix(entry string) (prefix, error) {
	if hasControl(entry) || strings.ContainsAny(entry, "?#") {
		return prefix{}, errors.New("want a location without query, fragment or control characters")
	}
	var host, p string
	l := store.ParseLocation(entry)
	switch s := l.Scheme; s {
	case "file":
		p = l.Key
		if !strings.HasPrefix(p, "/") {
			return prefix{}, errors.New("want file:///DIR/, an absolute folder with no host")
		}
	case "s3", "gs":
		if !bucketName.MatchString(l.Bucket) {
			return prefix{}, fmt.Errorf("want %s://BUCKET/ or %s://BUCKET/PREFIX/, with a bucket name", s, s)
		}
		host, p = l.Bucket, "/"+l.Key
	case "http", "https":
		u := l.URL()
		if u == nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
			return prefix{}, fmt.Errorf("want %s://HOST/PATH/, with a host and no user", s)
		}
		host, p = webHost(u), u.EscapedPath()
	case "":
		return prefix{}, errors.New("want a URL with its scheme: file:///DIR/, s3://BUCKET/PREFIX/, gs://BUCKET/PREFIX/ or https://HOST/PATH/")
	default:
		return prefix{}, fmt.Errorf("unknown scheme %q: want file, s3, gs, http or https", s)
	}
	if strings.ContainsRune(p, '\\') {
		return prefix{}, errors.New("a backslash in the path")
	}
	d, err := url.PathUnescape(p)
	if err != nil {
		return prefix{}, fmt.Errorf("malformed percent-encoding in the path: %w", err)
	}
	raw, decoded := segments(p), segments(d)
	if len(raw) != len(decoded) || strings.ContainsRune(d, '\\') {
		return prefix{}, errors.New("an encoded slash or backslash in the path")
	}
	for i, s := range raw {
		if s == "" || s == "." || s == ".." || decoded[i] == "." || decoded[i] == ".." {
			return prefix{}, errors.New(`want a clean path: no empty, "." or ".." segment`)
		}
	}
	folder := p == "" || strings.HasSuffix(p, "/")
	return prefix{place: place{scheme: l.Scheme, host: host, raw: raw, decoded: decoded}, folder: folder}, nil
}
