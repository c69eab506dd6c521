package gcstest_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
)

var client = &http.Client{Timeout: time.Minute} // a guard against a hang, not a speed limit

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestServer(t *testing.T) {
	srv := gcstest.Start(t)
	if !strings.HasPrefix(srv.Host(), "127.0.0.1:") || srv.URL() != "http://"+srv.Host() {
		t.Errorf("Host() = %q, URL() = %q", srv.Host(), srv.URL())
	}
	if want := "STORAGE_EMULATOR_HOST=" + srv.Host(); srv.Env() != want {
		t.Errorf("Env() = %q, want %q", srv.Env(), want)
	}

	srv.PutObject("renders", "job 42.json", []byte(`{"chunks":[]}`))
	code, body := get(t, srv.URL()+"/storage/v1/b/renders/o/job%2042.json?alt=media")
	if code != http.StatusOK || body != `{"chunks":[]}` {
		t.Errorf("GET media: %d %q", code, body)
	}

	resp, err := client.Post(srv.URL()+"/upload/storage/v1/b/renders/o?uploadType=media&name=out/0.mp4",
		"video/mp4", strings.NewReader("frames"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	obj, ok := srv.Object("renders", "out/0.mp4")
	if resp.StatusCode != http.StatusOK || !ok || string(obj.Content) != "frames" || obj.Crc32c == "" {
		t.Errorf("upload: %s; Object() = %q, crc32c %q, %v", resp.Status, obj.Content, obj.Crc32c, ok)
	}
	if _, ok := srv.Object("renders", "nope"); ok {
		t.Error("Object() of a missing object reported true")
	}

	srv.CreateBucket("empty")
	code, body = get(t, srv.URL()+"/storage/v1/b/empty/o")
	if code != http.StatusOK || strings.Contains(body, `"items"`) {
		t.Errorf("list of an empty bucket: %d %s", code, body)
	}
	if srv.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3", srv.Requests())
	}
}

func TestDeny(t *testing.T) {
	srv := gcstest.Start(t)
	srv.PutObject("secret", "job.json", []byte("{}"))
	srv.PutObject("open", "job.json", []byte("{}"))
	srv.Deny("secret")

	tests := []struct {
		method, path, perm string
	}{
		{"GET", "/storage/v1/b/secret/o/job.json?alt=media", "storage.objects.get"},
		{"GET", "/download/storage/v1/b/secret/o/job.json?alt=media", "storage.objects.get"},
		{"GET", "/storage/v1/b/secret/o?prefix=a/", "storage.objects.list"},
		{"POST", "/upload/storage/v1/b/secret/o?uploadType=media&name=x", "storage.objects.create"},
		{"DELETE", "/storage/v1/b/secret/o/job.json", "storage.objects.delete"},
		{"GET", "/storage/v1/b/secret", "storage.buckets.get"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL()+tt.path, strings.NewReader("x"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct {
				Code    int
				Message string
				Errors  []struct{ Reason string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || err != nil || body.Error.Code != 403 ||
			!strings.Contains(body.Error.Message, "does not have "+tt.perm+" access") ||
			len(body.Error.Errors) != 1 || body.Error.Errors[0].Reason != "forbidden" {
			t.Errorf("%s %s: %s %+v (%v)", tt.method, tt.path, resp.Status, body, err)
		}
	}
	if _, ok := srv.Object("secret", "x"); ok {
		t.Error("a denied upload was stored")
	}
	if code, _ := get(t, srv.URL()+"/storage/v1/b/open/o/job.json?alt=media"); code != http.StatusOK {
		t.Errorf("another bucket: %d", code)
	}
}

// Initial objects keep the checksums they are given, and the server
// sends them: the way to serve a corrupt object.
func TestInitialObjects(t *testing.T) {
	srv := gcstest.Start(t,
		fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "b", Name: "bad", Crc32c: "AAAAAA=="}, Content: []byte("x")},
		fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "b", Name: "good"}, Content: []byte("x")},
	)
	for name, want := range map[string]string{"bad": "crc32c=AAAAAA==", "good": "crc32c=qTxfkw=="} {
		resp, err := client.Get(srv.URL() + "/storage/v1/b/b/o/" + name + "?alt=media")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h := resp.Header.Get("X-Goog-Hash"); !strings.HasPrefix(h, want+",") {
			t.Errorf("%s: X-Goog-Hash %q, want %s", name, h, want)
		}
	}
}

func TestStopsWithTheTest(t *testing.T) {
	var host string
	t.Run("server", func(t *testing.T) {
		host = gcstest.Start(t).Host()
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after its test ended", host)
	}
}
