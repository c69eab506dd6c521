package gcsstore_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// A download whose server stops halfway is an error, and Download says
// how many bytes it wrote.
func TestDownloadCutOff(t *testing.T) {
	data := randomBytes(12<<20, 7)
	srv := start(t)
	srv.PutObject("b", "assets/video.mp4", data)
	proxy := faultproxy.Start(t, srv.Host())
	t.Setenv(gcsstore.EmulatorHostEnv, proxy.Addr())
	s := gcsstore.New()

	proxy.StopAfter(faultproxy.Downstream, 5<<20)
	_, n, err := download(testContext(t), t, s, "gs://b/assets/video.mp4")
	if err == nil || n >= int64(len(data)) {
		t.Fatalf("a download cut at 5 MB: %d bytes, %v", n, err)
	}
	t.Logf("cut off: %d bytes, %v", n, err)

	proxy.Resume()
	got, _, err := download(testContext(t), t, s, "gs://b/assets/video.mp4")
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("after Resume: %d bytes, %v", len(got), err)
	}
}

// An upload whose server stops halfway is an error and leaves no object,
// nor a changed one, once the server is back.
func TestUploadCutOff(t *testing.T) {
	const chunk = googleapi.MinUploadChunkSize // small chunks, small uploads
	tests := []struct {
		name string
		size int
		cut  int64
	}{
		{"single request", chunk - 1, chunk / 2},
		{"resumable", 8 * chunk, 4 * chunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			srv.PutObject("out", "earlier.mp4", []byte("an earlier render"))
			proxy := faultproxy.Start(t, srv.Host())
			t.Setenv(gcsstore.EmulatorHostEnv, proxy.Addr())
			s := gcsstore.New(gcsstore.WithRetryDeadline(time.Second), gcsstore.WithChunkSize(chunk))
			data := randomBytes(tt.size, 8)

			proxy.StopAfter(faultproxy.Upstream, tt.cut)
			for _, key := range []string{"new.mp4", "earlier.mp4"} {
				err := s.Put(testContext(t), "gs://out/"+key, bytes.NewReader(data), int64(len(data)))
				if err == nil {
					t.Fatalf("Put of %s cut at %d bytes succeeded", key, tt.cut)
				}
				t.Logf("cut off: %v", err)
			}

			proxy.Resume()
			_, err := s.Open(testContext(t), "gs://out/new.mp4")
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after Resume, Open: %v, want not found", err)
			}
			if got, ok := srv.Object("out", "earlier.mp4"); !ok || string(got.Content) != "an earlier render" {
				t.Errorf("the earlier object holds %d bytes", len(got.Content))
			}
		})
	}
}
