package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// allows reports whether a worker with allowed lets location through.
func allows(t *testing.T, allowed []string, location string) bool {
	t.Helper()
	c := worker.DefaultConfig()
	c.AllowedJobPaths = allowed
	if err := c.Validate(); err != nil {
		t.Fatalf("AllowedJobPaths %q: Validate() = %v", allowed, err)
	}
	err := c.CheckJobPath(location)
	if err != nil && !errors.Is(err, worker.ErrJobPathNotAllowed) {
		t.Errorf("CheckJobPath(%q) = %v, want an error that wraps ErrJobPathNotAllowed", location, err)
	}
	return err == nil
}

func TestCheckJobPath(t *testing.T) {
	tests := []struct {
		name     string
		allowed  string // comma-separated, as in the variable
		location string
		ok       bool
	}{
		// Buckets: whole segments, the bucket compared exactly.
		{"in the bucket", "s3://jobs/", "s3://jobs/job-42.json", true},
		{"deep in the bucket", "s3://jobs/", "s3://jobs/a/b/c.json", true},
		{"bucket without slash", "s3://jobs", "s3://jobs/job.json", true},
		{"another bucket", "s3://jobs/", "s3://other/job.json", false},
		{"bucket-evil", "s3://bucket/", "s3://bucket-evil/job.json", false},
		{"bucket-evil, no slash in the prefix", "s3://bucket", "s3://bucket-evil/job.json", false},
		{"bucket of a longer name", "s3://bucket-evil/", "s3://bucket/job.json", false},
		{"bucket name case", "s3://jobs/", "s3://Jobs/job.json", false},
		{"the bucket itself", "s3://jobs/", "s3://jobs", false},
		{"the bucket's root", "s3://jobs/", "s3://jobs/", false},
		{"gs in the bucket", "gs://jobs/", "gs://jobs/job.json", true},
		{"gs is not s3", "s3://jobs/", "gs://jobs/job.json", false},
		{"scheme case", "s3://jobs/", "S3://jobs/job.json", true},
		{"scheme case in the prefix", "GS://jobs/", "gs://jobs/job.json", true},
		// Prefixes: segments, trailing slashes.
		{"below a prefix", "s3://jobs/team1/", "s3://jobs/team1/job.json", true},
		{"prefix without slash holds its folder", "s3://jobs/team1", "s3://jobs/team1/job.json", true},
		{"prefix without slash holds itself", "s3://jobs/team1.json", "s3://jobs/team1.json", true},
		{"prefix with slash is a folder", "s3://jobs/team1/", "s3://jobs/team1", false},
		{"prefix with slash, location with slash", "s3://jobs/team1/", "s3://jobs/team1/", false},
		{"not a segment boundary", "s3://jobs/team1", "s3://jobs/team10/job.json", false},
		{"not a segment boundary, slash", "s3://jobs/team1/", "s3://jobs/team1x.json", false},
		{"key case", "s3://jobs/Team1/", "s3://jobs/team1/job.json", false},
		{"sibling folder", "s3://jobs/team1/", "s3://jobs/team2/job.json", false},
		{"shorter than the prefix", "s3://jobs/a/b/", "s3://jobs/a/job.json", false},
		// Dot segments and empty ones, in buckets: refused whatever they resolve to.
		{"climbs out of the prefix", "s3://jobs/team1/", "s3://jobs/team1/../team2/job.json", false},
		{"climbs in from outside", "s3://jobs/team1/", "s3://jobs/team2/../team1/job.json", false},
		{"stays inside", "s3://jobs/team1/", "s3://jobs/team1/a/../job.json", false},
		{"dot segment", "s3://jobs/", "s3://jobs/./job.json", false},
		{"climbs out of the bucket", "s3://jobs/", "s3://jobs/../other/job.json", false},
		{"empty segment", "s3://jobs/team1/", "s3://jobs/team1//job.json", false},
		{"leading empty segment", "s3://jobs/team1/", "s3://jobs//team1/job.json", false},
		{"dots in a name", "s3://jobs/", "s3://jobs/a..b/.job..json", true},
		// Percent-encoding: must hold both as written and decoded.
		{"%2e%2e", "s3://jobs/team1/", "s3://jobs/team1/%2e%2e/team2/job.json", false},
		{"%2E%2E", "s3://jobs/team1/", "s3://jobs/team1/%2E%2E/team2/job.json", false},
		{"%2e.", "https://h.example/jobs/", "https://h.example/jobs/%2e./x.json", false},
		{"%2e", "s3://jobs/", "s3://jobs/%2e/job.json", false},
		{"%2f inside a file name", "s3://jobs/team1/", "s3://jobs/team1/a%2fb.json", true},
		{"%2f moving the boundary", "s3://jobs/team1/", "s3://jobs/team1%2fjob.json", false},
		{"%2F moving the boundary", "https://h.example/jobs/", "https://h.example/jobs%2Fx.json", false},
		{"%2f..%2f", "https://h.example/jobs/", "https://h.example/jobs/a%2f..%2f..%2fsecret", false},
		{"%5c", "https://h.example/jobs/", "https://h.example/jobs/..%5c..%5csecret", false},
		{"%00", "s3://jobs/", "s3://jobs/job.json%00.txt", false},
		{"malformed escape", "s3://jobs/", "s3://jobs/100%.json", false},
		{"encoded letters are not the prefix", "https://h.example/jobs/", "https://h.example/j%6fbs/x.json", false},
		// Web servers.
		{"https below the path", "https://h.example/jobs/", "https://h.example/jobs/job.json", true},
		{"host case", "https://h.example/jobs/", "https://H.EXAMPLE/jobs/job.json", true},
		{"host case in the prefix", "https://H.Example/jobs/", "https://h.example/jobs/job.json", true},
		{"scheme case, https", "https://h.example/jobs/", "HTTPS://h.example/jobs/job.json", true},
		{"path case", "https://h.example/jobs/", "https://h.example/Jobs/job.json", false},
		{"http is not https", "https://h.example/jobs/", "http://h.example/jobs/job.json", false},
		{"another host", "https://h.example/jobs/", "https://h.example.evil/jobs/job.json", false},
		{"userinfo is not the host", "https://h.example/", "https://h.example@evil.example/job.json", false},
		{"userinfo ignored", "https://h.example/", "https://user@h.example/job.json", true},
		{"default port", "https://h.example/jobs/", "https://h.example:443/jobs/job.json", true},
		{"default port in the prefix", "http://h.example:80/", "http://h.example/job.json", true},
		{"other port", "https://h.example/jobs/", "https://h.example:8443/jobs/job.json", false},
		{"port kept", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/job.json", true},
		{"query not matched", "https://h.example/jobs/", "https://h.example/jobs/job.json?X-Amz-Signature=1", true},
		{"query is not the path", "https://h.example/jobs/", "https://h.example/other?/jobs/x", false},
		{"whole host", "https://h.example", "https://h.example/any/job.json", true},
		{"the host itself", "https://h.example/", "https://h.example", false},
		{"web ../", "https://h.example/jobs/", "https://h.example/jobs/../admin/job.json", false},
		{"malformed URL", "https://h.example/", "https://h.example/%zz", false},
		{"no host", "https://h.example/", "https:///job.json", false},
		// Local paths.
		{"file URL", "file:///srv/jobs/", "file:///srv/jobs/job.json", true},
		{"absolute path", "file:///srv/jobs/", "/srv/jobs/job.json", true},
		{"absolute path outside", "file:///srv/jobs/", "/srv/other/job.json", false},
		{"file scheme case", "file:///srv/jobs/", "FILE:///srv/jobs/job.json", true},
		{"path ../ climbing out", "file:///srv/jobs/", "/srv/jobs/../other/job.json", false},
		{"file ../ climbing out", "file:///srv/jobs/", "file:///srv/jobs/../../etc/passwd", false},
		{"path ../ staying in", "file:///srv/jobs/", "/srv/jobs/a/../job.json", true},
		{"path //", "file:///srv/jobs/", "//srv//jobs//job.json", true},
		{"path %2e%2e", "file:///srv/jobs/", "/srv/jobs/%2e%2e/other/job.json", false},
		{"path sibling", "file:///srv/jobs/", "/srv/jobs2/job.json", false},
		{"path case", "file:///srv/jobs/", "/srv/Jobs/job.json", false},
		{"file URL with a host is relative", "file:///srv/jobs/", "file://srv/jobs/job.json", false},
		{"a local path is not a bucket", "s3://jobs/", "jobs/job.json", false},
		{"whole file system", "file:///", "/etc/passwd", true},
		// Several entries, empty ones, unknown schemes.
		{"second entry", "s3://a/, gs://jobs/ ,", "gs://jobs/job.json", true},
		{"empty entries", ",,s3://jobs/,,", "s3://jobs/job.json", true},
		{"none holds it", "s3://a/,gs://b/", "s3://b/job.json", false},
		{"unknown scheme", "s3://jobs/", "ftp://jobs/job.json", false},
		{"scheme-like local path", "s3://jobs/", "s3:/jobs/job.json", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := strings.Split(tc.allowed, ",")
			var allowed []string
			for _, e := range list {
				if e = strings.TrimSpace(e); e != "" {
					allowed = append(allowed, e)
				}
			}
			if got := allows(t, allowed, tc.location); got != tc.ok {
				t.Errorf("AllowedJobPaths %q, jobPath %q: allowed %v, want %v", allowed, tc.location, got, tc.ok)
			}
		})
	}
}

// Relative jobPaths (stdin mode, local runs) are below the working
// directory, as the worker opens them.
func TestCheckJobPathRelative(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "specs"))
	wd, err := os.Getwd() // the temporary folder may be behind a link
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"file://" + wd + "/"}
	for _, tc := range []struct {
		location string
		ok       bool
	}{
		{"job.json", true},
		{"./job.json", true},
		{"a/../job.json", true},
		{"../job.json", false},
		{"../specs/job.json", true},
		{"../specs2/job.json", false},
		{"file://job.json", true}, // FileSource opens "job.json"
		{".", false},
		{"", false},
	} {
		if got := allows(t, allowed, tc.location); got != tc.ok {
			t.Errorf("working directory %s, jobPath %q: allowed %v, want %v", wd, tc.location, got, tc.ok)
		}
	}
}

func TestCheckJobPathUnset(t *testing.T) {
	c := worker.DefaultConfig()
	for _, loc := range []string{"s3://any/x.json", "https://any.example/x", "/etc/passwd", "ftp://x/y", "%zz"} {
		if err := c.CheckJobPath(loc); err != nil {
			t.Errorf("no AllowedJobPaths: CheckJobPath(%q) = %v, want nil", loc, err)
		}
	}
}

func TestCheckJobPathMessage(t *testing.T) {
	c := worker.DefaultConfig()
	c.AllowedJobPaths = []string{"s3://jobs/", "gs://jobs/team1/"}
	err := c.CheckJobPath("s3://other/x.json")
	want := `job path "s3://other/x.json" is outside HELIOS_ALLOWED_JOB_PATHS (s3://jobs/, gs://jobs/team1/)`
	if err == nil || err.Error() != want {
		t.Errorf("CheckJobPath = %v, want %s", err, want)
	}
	if !errors.Is(err, worker.ErrJobPathNotAllowed) {
		t.Errorf("%v does not wrap ErrJobPathNotAllowed", err)
	}
	long := "s3://other/" + strings.Repeat("é", 100_000)
	msg := c.CheckJobPath(long).Error()
	if len(msg) > 400 || !strings.Contains(msg, `"s3://other/éé`) || !strings.Contains(msg, `…"`) || strings.ContainsRune(msg, '\uFFFD') {
		t.Errorf("a long path gives a message of %d bytes: %.500q; want it cut, at a character, with …", len(msg), msg)
	}
	if msg := c.CheckJobPath("s3://x/\n\"y").Error(); strings.ContainsRune(msg, '\n') {
		t.Errorf("message %q is not one line", msg)
	}
}

func TestConfigFromEnvAllowedJobPaths(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"s3://jobs/", []string{"s3://jobs/"}},
		{" s3://a/ , gs://b/p/,,https://h.example/x/ ", []string{"s3://a/", "gs://b/p/", "https://h.example/x/"}},
		{",s3://jobs/,", []string{"s3://jobs/"}},
	} {
		clearEnv(t)
		t.Setenv(worker.EnvAllowedJobPaths, tc.value)
		c := worker.ConfigFromEnv()
		if !reflect.DeepEqual(c.AllowedJobPaths, tc.want) {
			t.Errorf("%s=%q: AllowedJobPaths %q, want %q", worker.EnvAllowedJobPaths, tc.value, c.AllowedJobPaths, tc.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s=%q: Validate() = %v", worker.EnvAllowedJobPaths, tc.value, err)
		}
	}
	// Set, but naming nothing: refused, rather than allowing everything.
	for _, v := range []string{",", " , ,", " "} {
		clearEnv(t)
		t.Setenv(worker.EnvAllowedJobPaths, v)
		err := worker.ConfigFromEnv().Validate()
		if err == nil || !strings.Contains(err.Error(), worker.EnvAllowedJobPaths) {
			t.Errorf("%s=%q: Validate() = %v, want a refusal naming the variable", worker.EnvAllowedJobPaths, v, err)
		}
	}
}

func TestValidateAllowedJobPaths(t *testing.T) {
	for _, tc := range []struct {
		entry string
		say   string // in the error
	}{
		{"jobs/", "with its scheme"},
		{"/srv/jobs/", "with its scheme"},
		{"", "with its scheme"},
		{"ftp://h.example/jobs/", `unknown scheme "ftp"`},
		{"s3:///jobs/", "with a bucket name"},
		{"s3://", "with a bucket name"},
		{"gs://", "with a bucket name"},
		{"s3://bu%63ket/", "with a bucket name"},
		{"https:///jobs/", "with a host"},
		{"https://", "with a host"},
		{"https://user:pw@h.example/", "no user"},
		{"https://h.example:8443x/", "with a host"},
		{"https://h.example/jobs/?x=1", "query"},
		{"https://h.example/jobs/#top", "fragment"},
		{"s3://jobs/a?b", "query"},
		{"file://host/srv/jobs/", "no host"},
		{"file://srv/jobs/", "no host"},
		{"file:///srv/../etc/", "clean path"},
		{"file:///srv/./jobs/", "clean path"},
		{"file:///srv//jobs/", "clean path"},
		{"s3://jobs/a/../b/", "clean path"},
		{"s3://jobs/a/%2e%2e/b/", "clean path"},
		{"s3://jobs/a%2fb/", "encoded slash"},
		{"https://h.example/a%5cb/", "encoded slash or backslash"},
		{`s3://jobs/a\b/`, "backslash"},
		{"s3://jobs/100%/", "percent-encoding"},
		{"s3://jobs/a\nb/", "control"},
	} {
		c := worker.DefaultConfig()
		c.AllowedJobPaths = []string{"s3://fine/", tc.entry}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), worker.EnvAllowedJobPaths) ||
			!strings.Contains(err.Error(), strconv.Quote(tc.entry)) || !strings.Contains(err.Error(), tc.say) {
			t.Errorf("entry %q: Validate() = %v, want an error naming %s, the entry and %q", tc.entry, err, worker.EnvAllowedJobPaths, tc.say)
		}
		if strings.Contains(err.Error(), "s3://fine/") {
			t.Errorf("entry %q: Validate() = %v, which names the well-formed entry too", tc.entry, err)
		}
	}
	for _, entry := range []string{"s3://jobs", "s3://jobs/", "s3://jobs/a/b", "gs://my_jobs.example/x/", "file:///", "file:///srv/jobs",
		"https://h.example", "https://h.example/", "http://127.0.0.1:8080/jobs/", "https://[::1]:8443/j/", "s3://jobs/a%20b/", "S3://jobs/"} {
		c := worker.DefaultConfig()
		c.AllowedJobPaths = []string{entry}
		if err := c.Validate(); err != nil {
			t.Errorf("entry %q: Validate() = %v", entry, err)
		}
	}
}

// countingSource serves one spec for any location and counts the opens.
type countingSource struct {
	spec  []byte
	opens atomic.Int64
}

func (s *countingSource) Open(context.Context, string) (io.ReadCloser, error) {
	s.opens.Add(1)
	return io.NopCloser(bytes.NewReader(s.spec)), nil
}

// Run refuses a jobPath outside AllowedJobPaths before it opens anything:
// no request reaches the web server or the bucket, and no workspace is
// made; a jobPath inside runs.
func TestRunRefusesJobPathBeforeFetching(t *testing.T) {
	spec := marshalSpec(t, oneChunk("true"))
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(spec)
	}))
	t.Cleanup(srv.Close)
	bucket := &countingSource{spec: spec}
	cfg := testConfig(t)
	cfg.AllowedJobPaths = []string{"s3://jobs/team1/", srv.URL + "/jobs/"}
	w := newWorker(cfg, worker.WithSource("s3", bucket))
	for _, tc := range []struct {
		jobPath string
		ok      bool
	}{
		{"s3://jobs/team1/job.json", true},
		{srv.URL + "/jobs/job.json", true},
		{"s3://jobs/team2/job.json", false},
		{"s3://jobs-evil/team1/job.json", false},
		{"s3://jobs/team1/../team2/job.json", false},
		{srv.URL + "/jobs/%2e%2e/admin/job.json", false},
		{srv.URL + "/jobs2/job.json", false},
		{writeSpec(t, oneChunk("true")), false},
	} {
		before := requests.Load() + bucket.opens.Load()
		r := w.Run(t.Context(), jobspec.Request{JobPath: tc.jobPath})
		fetched := requests.Load() + bucket.opens.Load() - before
		if tc.ok {
			if !r.OK() || fetched != 1 {
				t.Errorf("%s: %+v after %d fetches, want a success after one", tc.jobPath, r, fetched)
			}
			continue
		}
		if !errors.Is(r.Err, worker.ErrJobPathNotAllowed) || r.Started || fetched != 0 {
			t.Errorf("%s: %+v after %d fetches, want ErrJobPathNotAllowed and nothing fetched", tc.jobPath, r, fetched)
		}
		if !strings.Contains(r.Message(), strconv.Quote(tc.jobPath)) || !strings.Contains(r.Message(), worker.EnvAllowedJobPaths) {
			t.Errorf("%s: message %q, want it to name the path and %s", tc.jobPath, r.Message(), worker.EnvAllowedJobPaths)
		}
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}
