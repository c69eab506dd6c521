package worker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func TestRunSpecHTTP(t *testing.T) {
	spec := marshalSpec(t, oneChunk("echo over-http"))
	release := make(chan struct{})
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/job.json":
			w.Write(spec) //nolint:errcheck
		case "/big.json":
			w.Write([]byte(`{"id":"` + strings.Repeat("x", 200) + `","chunks":[]}`)) //nolint:errcheck
		case "/hang":
			select { // never answers, until the client gives up or the test ends
			case <-r.Context().Done():
			case <-release:
			}
		case "/hang-body":
			w.Write(spec[:10]) //nolint:errcheck
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	t.Run("ok", func(t *testing.T) {
		cfg := testConfig(t)
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: srv.URL + "/job.json"})
		if !r.OK() || string(r.Stdout) != "over-http\n" {
			t.Fatalf("Run = %+v", r)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(paths) == 0 || paths[len(paths)-1] != "/job.json" {
			t.Errorf("server saw %q", paths)
		}
	})
	t.Run("404", func(t *testing.T) {
		cfg := testConfig(t)
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: srv.URL + "/missing.json"})
		if r.Started || r.Err == nil || !strings.Contains(r.Err.Error(), "404") {
			t.Fatalf("Run = %+v, want an error naming 404", r)
		}
		assertEmptyDir(t, cfg.WorkspaceRoot)
	})
	t.Run("too large", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.SpecMaxBytes = 100
		r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: srv.URL + "/big.json"})
		if r.Started || !errors.Is(r.Err, store.ErrTooLarge) {
			t.Fatalf("Run = %+v, want ErrTooLarge", r)
		}
	})
	for _, path := range []string{"/hang", "/hang-body"} {
		t.Run("timeout "+path, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.SpecTimeout = 300 * time.Millisecond
			start := time.Now()
			// The server never answers: without the SpecTimeout, only the
			// test's deadline would end Run.
			r := newWorker(cfg).Run(testdeadline.Context(t), jobspec.Request{JobPath: srv.URL + path})
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Run took %v with SpecTimeout 300ms", elapsed)
			}
			if r.Started || !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Fatalf("Run = %+v, want a deadline error", r)
			}
			if want := "reading job spec " + srv.URL + path + ": it took longer than 300ms (HELIOS_SPEC_TIMEOUT): "; !strings.HasPrefix(r.Message(), want) {
				t.Errorf("message %q, want it to start %q", r.Message(), want)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// mapSource serves documents from memory and records what it was asked.
type mapSource struct {
	mu     sync.Mutex
	docs   map[string][]byte
	opened []string
}

func (s *mapSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened = append(s.opened, location)
	data, ok := s.docs[location]
	if !ok {
		return nil, errNoDoc
	}
	return io.NopCloser(strings.NewReader(string(data))), nil
}

var errNoDoc = errors.New("no such document")

func TestRunSources(t *testing.T) {
	const loc = "s3://renders/job-42.json"
	withAssets := oneChunk(`sh -c 'cat assets.asset'`)
	withAssets.AssetsURL = "s3://renders/assets"
	docs := map[string][]byte{
		loc:                        marshalSpec(t, oneChunk("echo from-s3")),
		"s3://renders/assets.json": marshalSpec(t, withAssets),
	}

	t.Run("unknown scheme", func(t *testing.T) {
		cfg := testConfig(t)
		for _, p := range []string{loc, "gs://bucket/object", "S3://renders/x"} {
			r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: p})
			if r.Started || !errors.Is(r.Err, store.ErrNoSource) {
				t.Errorf("Run(%s) = %+v, want ErrNoSource", p, r)
			}
		}
		assertEmptyDir(t, cfg.WorkspaceRoot)
	})
	t.Run("registered", func(t *testing.T) {
		cfg := testConfig(t)
		src := &mapSource{docs: docs}
		r := newWorker(cfg, worker.WithSource("s3", src)).Run(t.Context(), jobspec.Request{JobPath: loc})
		if !r.OK() || string(r.Stdout) != "from-s3\n" {
			t.Fatalf("Run = %+v", r)
		}
		if len(src.opened) != 1 || src.opened[0] != loc {
			t.Errorf("source asked for %q, want the whole location %q", src.opened, loc)
		}
	})
	t.Run("source error", func(t *testing.T) {
		cfg := testConfig(t)
		src := &mapSource{docs: docs}
		r := newWorker(cfg, worker.WithSource("s3", src)).Run(t.Context(), jobspec.Request{JobPath: "s3://renders/x"})
		if r.Started || !errors.Is(r.Err, errNoDoc) || !strings.Contains(r.Err.Error(), "s3://renders/x") {
			t.Fatalf("Run = %+v, want the source's error naming the location", r)
		}
	})
	t.Run("With copies", func(t *testing.T) {
		cfg := testConfig(t)
		base := newWorker(cfg)
		w := base.With(worker.WithSource("s3", &mapSource{docs: docs}))
		if r := w.Run(t.Context(), jobspec.Request{JobPath: loc}); !r.OK() {
			t.Errorf("With(WithSource): Run = %+v", r)
		}
		if r := base.Run(t.Context(), jobspec.Request{JobPath: loc}); !errors.Is(r.Err, store.ErrNoSource) {
			t.Errorf("the original worker gained the source: Run = %+v", r)
		}
		if !reflect.DeepEqual(w.Config(), cfg) || !reflect.DeepEqual(base.Config(), cfg) {
			t.Errorf("Config() changed")
		}
	})
	t.Run("assets need a folder source", func(t *testing.T) {
		cfg := testConfig(t)
		src := &mapSource{docs: docs}
		r := newWorker(cfg, worker.WithSource("s3", src)).Run(t.Context(), jobspec.Request{JobPath: "s3://renders/assets.json"})
		if r.Started || r.Err == nil || !strings.Contains(r.Err.Error(), "cannot list a folder") {
			t.Errorf("Run = %+v, want an error about listing the folder", r)
		}
		assertEmptyDir(t, cfg.WorkspaceRoot)
	})
	t.Run("assets from a folder source", func(t *testing.T) {
		cfg := testConfig(t)
		src := newMemStore(map[string][]byte{
			"s3://renders/assets.json":         docs["s3://renders/assets.json"],
			"s3://renders/assets/assets.asset": []byte("s3://renders/assets"),
		})
		r := newWorker(cfg, worker.WithSource("s3", src)).Run(t.Context(), jobspec.Request{JobPath: "s3://renders/assets.json"})
		if !r.OK() || string(r.Stdout) != "s3://renders/assets" {
			t.Errorf("Run = %+v (stderr %q)", r, r.Stderr)
		}
		assertEmptyDir(t, cfg.WorkspaceRoot)
	})
	t.Run("replacing a built-in scheme", func(t *testing.T) {
		cfg := testConfig(t)
		src := &mapSource{docs: map[string][]byte{"file:///virtual.json": docs[loc]}}
		r := newWorker(cfg, worker.WithSource("file", src)).Run(t.Context(), jobspec.Request{JobPath: "file:///virtual.json"})
		if !r.OK() {
			t.Errorf("Run = %+v", r)
		}
	})
}
