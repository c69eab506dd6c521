package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/faultproxy"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// cacheWorld is a scaffolded worker behind a proxy that counts the bytes
// it receives from the store: a chunk served from the asset cache
// receives the spec and the listing, not the assets.
type cacheWorld struct {
	w     *bucketWorld
	proxy *faultproxy.Proxy
	call  callFunc
	root  string
}

const cacheMiB = 1 << 20

func newCacheWorld(t *testing.T, w *bucketWorld, env ...string) *cacheWorld {
	proxy := faultproxy.Start(t, w.addr)
	root := t.TempDir()
	return &cacheWorld{w: w, proxy: proxy, root: root, call: w.start(t, proxy.Addr(), root, env...)}
}

// run runs chunk and returns its stdout and the bytes the worker received.
func (c *cacheWorld) run(t *testing.T, chunk int64) (string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := c.proxy.Bytes(faultproxy.Downstream)
	r, err := c.call(ctx, jobspec.Request{JobPath: c.w.url(jobsBucket, "jobs/cache.json"), ChunkIndex: chunk})
	if err != nil || !r.OK() {
		t.Fatalf("chunk %d: %+v, %v", chunk, r, err)
	}
	return r.Stdout, c.proxy.Bytes(faultproxy.Downstream) - before
}

// cachedFiles lists the files in the worker's asset cache.
func (c *cacheWorld) cachedFiles(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(c.root, "helios-cache", "p-*", "[^.]*"))
	return files
}

// testCache runs the asset cache's rules through w's scaffolded worker
// and store: hit, a vandalised folder, a changed object, eviction, the
// cache off, a cut download, and (where the platform runs chunks at once)
// two chunks downloading each object once.
func testCache(t *testing.T, w *bucketWorld, concurrent bool) {
	a, b := bytes.Repeat([]byte("a"), cacheMiB), bytes.Repeat([]byte("b"), cacheMiB)
	w.put(t, jobsBucket, "cache/a.bin", a)
	w.put(t, jobsBucket, "cache/sub/b.bin", b)
	w.put(t, jobsBucket, "jobs/cache.json", []byte(`{"assetsUrl":"`+w.url(jobsBucket, "cache")+`","chunks":[`+
		`{"id":0,"command":"sh -c 'ls -A; cksum a.bin sub/b.bin'"},`+
		`{"id":1,"command":"sh -c 'echo evil >> a.bin; : > sub/b.bin; mv a.bin moved'"},`+
		`{"id":2,"command":"sh -c 'sleep 0.5; cksum a.bin sub/b.bin'"}]}`))
	want := "a.bin\nsub\n" + cksum(t, a, "a.bin") + cksum(t, b, "sub/b.bin")

	t.Run("hit, vandalised, changed", func(t *testing.T) {
		c := newCacheWorld(t, w)
		steps := []struct {
			name     string
			chunk    int64
			before   func()
			want     string
			min, max int64 // bytes received
		}{
			{"first chunk", 0, nil, want, 2 * cacheMiB, 3 * cacheMiB},
			{"warm chunk", 0, nil, want, 0, cacheMiB / 4},
			{"vandal", 1, nil, "", 0, cacheMiB / 4},
			{"after the vandal", 0, nil, want, 2 * cacheMiB, 3 * cacheMiB},
			{"a changed", 0, func() { w.put(t, jobsBucket, "cache/a.bin", bytes.Repeat([]byte("A"), cacheMiB)) },
				"a.bin\nsub\n" + cksum(t, bytes.Repeat([]byte("A"), cacheMiB), "a.bin") + cksum(t, b, "sub/b.bin"), cacheMiB, 2 * cacheMiB},
		}
		for _, s := range steps {
			if s.before != nil {
				s.before()
			}
			got, n := c.run(t, s.chunk)
			if got != s.want || n < s.min || n > s.max {
				t.Errorf("%s: stdout %q, %d bytes from the store; want %q and %d to %d bytes", s.name, got, n, s.want, s.min, s.max)
			}
		}
		w.put(t, jobsBucket, "cache/a.bin", a)
	})

	for _, tc := range []struct {
		name  string
		limit int64
		min   int64 // bytes the second chunk receives at least
	}{
		{"eviction at the bound", cacheMiB * 3 / 2, cacheMiB},
		{"cache off", 0, 2 * cacheMiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCacheWorld(t, w, worker.EnvAssetsCacheBytes+"="+strconv.FormatInt(tc.limit, 10))
			c.run(t, 0)
			if got, n := c.run(t, 0); got != want || n < tc.min {
				t.Errorf("second chunk: stdout %q, %d bytes from the store; want %q and at least %d", got, n, want, tc.min)
			}
			if tc.limit == 0 {
				if _, err := os.Stat(filepath.Join(c.root, "helios-cache")); !os.IsNotExist(err) {
					t.Errorf("the cache off made its folder: %v", err)
				}
			}
		})
	}

	t.Run("cut download", func(t *testing.T) {
		c := newCacheWorld(t, w)
		c.proxy.StopAfter(faultproxy.Downstream, cacheMiB/2)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		r, err := c.call(ctx, jobspec.Request{JobPath: w.url(jobsBucket, "jobs/cache.json")})
		if err != nil || r.StatusCode != 500 {
			t.Fatalf("a cut download: %+v, %v; want a 500", r, err)
		}
		c.proxy.Resume()
		if files := c.cachedFiles(t); len(files) != 0 {
			t.Errorf("a cut download left %q in the cache", files)
		}
		if got, n := c.run(t, 0); got != want || n < 2*cacheMiB {
			t.Errorf("the next chunk: stdout %q, %d bytes; want %q, downloaded whole", got, n, want)
		}
	})

	if !concurrent {
		return
	}
	t.Run("two chunks at once", func(t *testing.T) {
		c := newCacheWorld(t, w)
		var wg sync.WaitGroup
		outs := make([]string, 2)
		before := c.proxy.Bytes(faultproxy.Downstream)
		for i := range outs {
			wg.Go(func() { outs[i], _ = c.run(t, 2) })
		}
		wg.Wait()
		n := c.proxy.Bytes(faultproxy.Downstream) - before
		for _, out := range outs {
			if out != want[len("a.bin\nsub\n"):] {
				t.Errorf("a chunk saw %q", out)
			}
		}
		if n > 3*cacheMiB {
			t.Errorf("two chunks at once received %d bytes, want each asset once (%d)", n, 2*cacheMiB)
		}
	})
}

// cksum is what cksum(1) prints for data named name.
func cksum(t *testing.T, data []byte, name string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "cksum < "+f).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(out)) + " " + name + "\n"
}
