package gcsstore_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// fakeMetadata is a GCE metadata server that hands out a token and counts
// the requests it gets.
type fakeMetadata struct {
	requests atomic.Int64
	url      string
}

func startMetadata(t *testing.T) *fakeMetadata {
	m := &fakeMetadata{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/service-accounts/default/token"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"fake-token","expires_in":3600,"token_type":"Bearer"}`)
		case strings.HasSuffix(r.URL.Path, "/universe/universe-domain"):
			io.WriteString(w, "googleapis.com")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	m.url = ts.URL
	return m
}

// noCredentials leaves the process with no Application Default
// Credentials but the GCE metadata server at host, if any.
func noCredentials(t *testing.T, metadataHost string) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir()) // no gcloud well-known file
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	t.Setenv("GCE_METADATA_HOST", metadataHost)
	t.Setenv(gcsstore.EmulatorHostEnv, "")
}

// New looks nothing up; the first use finds Application Default
// Credentials (here a GCE metadata server) and sends their token.
func TestNewIsLazy(t *testing.T) {
	md := startMetadata(t)
	noCredentials(t, strings.TrimPrefix(md.url, "http://"))
	var auth atomic.Value
	srv := start(t)
	srv.PutObject("b", "job.json", []byte("{}"))
	t.Setenv(gcsstore.EmulatorHostEnv, "")
	front := rewriter(t, srv, func(r *http.Response) { auth.Store(r.Request.Header.Get("Authorization")) })

	s := gcsstore.New(gcsstore.WithClientOptions(option.WithEndpoint("http://" + front + "/storage/v1/")))
	if n := md.requests.Load() + srv.Requests(); n != 0 {
		t.Fatalf("New made %d requests", n)
	}
	rc, err := s.Open(testContext(t), "gs://b/job.json")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if md.requests.Load() == 0 || auth.Load() != "Bearer fake-token" {
		t.Errorf("first use: %d metadata requests, Authorization %q", md.requests.Load(), auth.Load())
	}
}

// A first use that cannot build the client does not keep the failure.
func TestFailureNotKept(t *testing.T) {
	srv := start(t)
	srv.PutObject("b", "job.json", []byte("{}"))
	noCredentials(t, "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	s := gcsstore.New()

	_, err := s.Open(testContext(t), "gs://b/job.json")
	if err == nil || !strings.HasPrefix(err.Error(), "gs://b/job.json: google cloud storage client: ") {
		t.Fatalf("Open without credentials: %v", err)
	}
	t.Setenv(gcsstore.EmulatorHostEnv, "http://"+srv.Host()+"/")
	rc, err := s.Open(testContext(t), "gs://b/job.json")
	if err != nil {
		t.Fatalf("Open once the emulator is set: %v", err)
	}
	rc.Close()
}

// The client is built once, however many calls race for it.
func TestConcurrentFirstUse(t *testing.T) {
	srv := start(t)
	srv.PutObject("b", "x", []byte("x"))
	s := gcsstore.New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.List(testContext(t), "gs://b"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestAccessDenied(t *testing.T) {
	srv := start(t)
	srv.PutObject("secret", "job/assets/logo.png", []byte("png"))
	srv.PutObject("open", "job.json", []byte("{}"))
	srv.Deny("secret")
	s := gcsstore.New()
	ctx := testContext(t)
	data := []byte("frames")

	_, openErr := s.Open(ctx, "gs://secret/job.json")
	_, listErr := s.List(ctx, "gs://secret/job/assets")
	_, _, dlErr := download(ctx, t, s, "gs://secret/job/assets/logo.png")
	putErr := s.Put(ctx, "gs://secret/out/chunk_0.mp4", bytes.NewReader(data), int64(len(data)))
	bigErr := s.Put(ctx, "gs://secret/out/chunk_1.mp4", bytes.NewReader(make([]byte, 9<<20)), 9<<20)
	for _, tt := range []struct {
		err                 error
		location, needsPerm string
	}{
		{openErr, "gs://secret/job.json", "storage.objects.get"},
		{listErr, "gs://secret/job/assets", "storage.objects.list"},
		{dlErr, "gs://secret/job/assets/logo.png", "storage.objects.get"},
		{putErr, "gs://secret/out/chunk_0.mp4", "storage.objects.create"},
		{bigErr, "gs://secret/out/chunk_1.mp4", "storage.objects.create"},
	} {
		wantErr(t, tt.err, store.ErrAccessDenied, tt.location)
		var gerr *googleapi.Error
		if !errors.As(tt.err, &gerr) || gerr.Code != http.StatusForbidden {
			t.Errorf("%v does not wrap the *googleapi.Error", tt.err)
		}
		if want := tt.location + ": access denied: helios-worker@example.iam.gserviceaccount.com does not have " +
			tt.needsPerm + " access"; !strings.HasPrefix(tt.err.Error(), want) {
			t.Errorf("error %q, want it to start with %q", tt.err, want)
		}
	}
	if _, err := s.Open(ctx, "gs://open/job.json"); err != nil {
		t.Errorf("another bucket: %v", err)
	}
}
