package runcaller_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// sha256Hex is the SHA-256 of "x\n", as an answer carries one.
const sha256Hex = "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"

func TestParse(t *testing.T) {
	t.Parallel()
	rows := []struct {
		name      string
		status    int
		body      string
		want      worker.CallResult
		malformed bool
	}{
		{name: "success", status: 200, body: `{"exitCode":0,"stdout":"out\n","stderr":"err\n","durationMs":12}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "out\n", Stderr: "err\n"}},
		{name: "output for stdout", status: 200, body: `{"exitCode":0,"output":"o","stderr":"e"}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "o", Stderr: "e"}},
		{name: "stdout wins over output", status: 200, body: `{"exitCode":0,"output":"o","stdout":"s"}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true, Stdout: "s"}},
		{name: "empty stdout wins over output", status: 200, body: `{"exitCode":0,"stdout":"","output":"o"}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true}},
		{name: "exit code", status: 500, body: `{"exitCode":3,"stdout":"","stderr":"boom","message":"chunk command exited with code 3"}`,
			want: worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: 3, Stderr: "boom", Message: "chunk command exited with code 3"}},
		{name: "killed", status: 500, body: `{"exitCode":-1,"stdout":"started\n","stderr":"","message":"chunk cancelled"}`,
			want: worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: -1, Stdout: "started\n", Message: "chunk cancelled"}},
		{name: "could not run", status: 500, body: `{"message":"Chunk with ID 9 not found in job spec"}`,
			want: worker.CallResult{StatusCode: 500, Message: "Chunk with ID 9 not found in job spec"}},
		{name: "method", status: 405, body: `{"message":"Method Not Allowed"}`,
			want: worker.CallResult{StatusCode: 405, Message: "Method Not Allowed"}},
		{name: "bad payload", status: 400, body: `{"message":"Missing jobPath or chunkIndex"}` + "\n",
			want: worker.CallResult{StatusCode: 400, Message: "Missing jobPath or chunkIndex"}},
		{name: "too large", status: 413, body: `{"message":"too big"}`,
			want: worker.CallResult{StatusCode: 413, Message: "too big"}},
		{name: "unknown fields", status: 200, body: `{"exitCode":0,"stdout":"","stdoutTruncated":true,"extra":[1]}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true}},
		{name: "output uploaded", status: 200,
			body: `{"exitCode":0,"stdout":"","stderr":"","outputUrl":"gs://renders/out/c.mp4","outputBytes":2,"outputSha256":"` + sha256Hex + `"}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true, OutputURL: "gs://renders/out/c.mp4", OutputBytes: 2, OutputSHA256: sha256Hex}},
		{name: "kind of a failure", status: 500, body: `{"message":"starting chunk 0 command \"x\": executable file not found in $PATH","errorKind":"command"}`,
			want: worker.CallResult{StatusCode: 500, Message: `starting chunk 0 command "x": executable file not found in $PATH`, ErrorKind: "command"}},
		{name: "kind of a failed command", status: 500, body: `{"exitCode":3,"stdout":"","stderr":"","message":"m","errorKind":"failed"}`,
			want: worker.CallResult{StatusCode: 500, HasExitCode: true, ExitCode: 3, Message: "m", ErrorKind: "failed"}},
		{name: "no kind in a success", status: 200, body: `{"exitCode":0,"stdout":"","errorKind":"spec"}`,
			want: worker.CallResult{StatusCode: 200, HasExitCode: true}},
		{name: "504 HTML", status: 504, body: "<html><body><h1>504 Gateway Timeout</h1></body></html>", malformed: true},
		{name: "502 empty", status: 502, body: "", malformed: true},
		{name: "200 text", status: 200, body: "ok", malformed: true},
		{name: "JSON array", status: 200, body: `[{"exitCode":0}]`, malformed: true},
		{name: "JSON string", status: 500, body: `"boom"`, malformed: true},
		{name: "exitCode string", status: 200, body: `{"exitCode":"0","stdout":""}`, malformed: true},
		{name: "truncated JSON", status: 200, body: `{"exitCode":0,"stdout":"ab`, malformed: true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got, err := runcaller.Parse(row.status, []byte(row.body))
			if row.malformed {
				if !errors.Is(err, runcaller.ErrMalformed) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
				}
				if !strings.Contains(err.Error(), "status "+itoa(row.status)) {
					t.Errorf("error %q does not give the status %d", err, row.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if *got != row.want {
				t.Errorf("Parse = %+v\nwant    %+v", *got, row.want)
			}
			if got.OK() != (row.status == 200) {
				t.Errorf("OK() = %v for status %d", got.OK(), row.status)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseLongBodyQuoted(t *testing.T) {
	t.Parallel()
	_, err := runcaller.Parse(502, []byte(strings.Repeat("x", 10000)))
	if !errors.Is(err, runcaller.ErrMalformed) || len(err.Error()) > 400 {
		t.Errorf("error for a long non-JSON body: %d bytes: %v", len(err.Error()), err)
	}
}

// TestCall posts to a fake worker and reads its answers.
func TestCall(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, ctype string
		body          map[string]any
	}
	got := make(chan seen, 10)
	answer := map[string]struct {
		status int
		body   string
	}{
		"ok":    {200, `{"exitCode":0,"stdout":"hi\n","stderr":"","outputUrl":"gs://b/out/chunk_3.mp4","outputBytes":77}`},
		"fail":  {500, `{"exitCode":2,"stdout":"","stderr":"no","message":"chunk command exited with code 2"}`},
		"html":  {504, "<html>upstream request timeout</html>"},
		"limit": {413, `{"message":"Request body is larger than 1048576 bytes"}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got <- seen{r.Method, r.Header.Get("Content-Type"), m}
		a := answer[strings.TrimPrefix(r.URL.Path, "/")]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)

	ctx := testdeadline.Context(t)
	call := func(path string) (*worker.CallResult, error) {
		c, err := runcaller.New(ctx, srv.URL+path, runcaller.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c.Call(ctx, jobspec.Request{JobPath: "gs://b/job.json", ChunkIndex: 3})
	}

	res, err := call("/ok")
	if err != nil || !res.OK() || res.Stdout != "hi\n" || !res.HasExitCode || res.ExitCode != 0 ||
		res.OutputURL != "gs://b/out/chunk_3.mp4" || res.OutputBytes != 77 {
		t.Errorf("ok: %+v, %v", res, err)
	}
	s := <-got
	if s.method != http.MethodPost || s.ctype != "application/json" ||
		s.body["jobPath"] != "gs://b/job.json" || s.body["chunkIndex"] != 3.0 || len(s.body) != 2 {
		t.Errorf("request seen by the worker: %+v", s)
	}
	res, err = call("/fail")
	if err != nil || res.OK() || res.ExitCode != 2 || res.Stderr != "no" || res.Message == "" {
		t.Errorf("fail: %+v, %v", res, err)
	}
	res, err = call("/limit")
	if err != nil || res.OK() || res.StatusCode != 413 || res.HasExitCode || !strings.Contains(res.Message, "larger") {
		t.Errorf("limit: %+v, %v", res, err)
	}
	if _, err = call("/html"); !errors.Is(err, runcaller.ErrMalformed) || !strings.Contains(err.Error(), "504") {
		t.Errorf("html: %v, want ErrMalformed naming 504", err)
	}

	// No answer at all: an error that is not ErrMalformed.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	c, err := runcaller.New(ctx, url, runcaller.WithHTTPClient(&http.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, jobspec.Request{JobPath: "x", ChunkIndex: 0}); err == nil || errors.Is(err, runcaller.ErrMalformed) {
		t.Errorf("closed server: %v", err)
	}
	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	c, _ = runcaller.New(ctx, srv.URL+"/ok", runcaller.WithHTTPClient(srv.Client()))
	if _, err := c.Call(cancelled, jobspec.Request{JobPath: "x", ChunkIndex: 0}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
}

// TestNewWithoutCredentials: with no usable service-account credentials,
// New fails (it must not panic, nor reach beyond loopback).
func TestNewWithoutCredentials(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.json")
	err := os.WriteFile(user, []byte(`{"type":"authorized_user","client_id":"id.apps.googleusercontent.com",`+
		`"client_secret":"secret","refresh_token":"1//token"}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Any metadata-server attempt goes to a closed loopback port; no
	// gcloud configuration is found.
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	t.Setenv("GCE_METADATA_IP", "127.0.0.1:1")
	t.Setenv("HOME", dir)
	t.Setenv("CLOUDSDK_CONFIG", dir)
	t.Setenv("NO_GCE_CHECK", "true")

	for _, newAuth := range []string{"false", "true"} {
		t.Setenv("GOOGLE_API_GO_EXPERIMENTAL_ENABLE_NEW_AUTH_LIB", newAuth)
		for _, c := range []struct{ name, creds, want string }{
			{"missing file", filepath.Join(dir, "nope.json"), "nope.json"},
			{"user credentials", user, ""},
		} {
			t.Run(c.name+" newauth="+newAuth, func(t *testing.T) {
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", c.creds)
				ctx := testdeadline.Context(t)
				type result struct {
					c   *runcaller.Caller
					err error
				}
				ch := make(chan result, 1)
				go func() {
					defer func() {
						if v := recover(); v != nil {
							ch <- result{err: errors.New("panic")}
							t.Errorf("New panicked: %v", v)
						}
					}()
					c, err := runcaller.New(ctx, "https://worker-abc-uc.a.run.app")
					ch <- result{c, err}
				}()
				var r result
				select {
				case r = <-ch:
				case <-testdeadline.After(t): // after ctx has ended
					t.Skip("idtoken kept trying whatever its context; not a runcaller matter")
				}
				if r.err == nil && newAuth == "true" && c.name == "missing file" {
					// cloud.google.com/go/auth ignores an unreadable
					// GOOGLE_APPLICATION_CREDENTIALS and, GCE_METADATA_HOST
					// being set, defers to the metadata server (lazily).
					t.Skip("idtoken falls back to the metadata server")
				}
				if r.err == nil {
					t.Fatalf("New succeeded without service-account credentials")
				}
				if !strings.Contains(r.err.Error(), "https://worker-abc-uc.a.run.app") || !strings.Contains(r.err.Error(), c.want) {
					t.Errorf("error %q does not name the service and %q", r.err, c.want)
				}
				t.Logf("New: %v", r.err)
			})
		}
	}
}
