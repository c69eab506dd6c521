package worker_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// assetJob is a spec at s3://renders/job.json whose assets are the folder
// s3://renders/assets, and whose chunk runs command.
func assetJob(t *testing.T, command string, objs map[string]string) *memStore {
	t.Helper()
	spec := oneChunk(command)
	spec.AssetsURL = "s3://renders/assets"
	m := newMemStore(map[string][]byte{"s3://renders/job.json": marshalSpec(t, spec)})
	for rel, data := range objs {
		m.objs["s3://renders/assets/"+rel] = []byte(data)
	}
	return m
}

func runAssetJob(t *testing.T, cfg worker.Config, m *memStore) *worker.Result {
	t.Helper()
	return newWorker(cfg, worker.WithSource("s3", m)).Run(t.Context(), jobspec.Request{JobPath: "s3://renders/job.json"})
}

func TestAssetsDownloaded(t *testing.T) {
	objs := map[string]string{
		"composition.html":        "<html>",
		"img/logo.png":            "png",
		"img/deep/er/frame.bin":   strings.Repeat("\x00\xff", 5000),
		"fonts/Inter Regular.ttf": "ttf",
		"empty.txt":               "",
	}
	m := assetJob(t, `sh -c 'cat composition.html img/logo.png "fonts/Inter Regular.ttf"; wc -c < img/deep/er/frame.bin; test -f empty.txt && ls -A img | tr "\n" " "'`, objs)
	m.objs["s3://renders/assets/img/"] = nil   // a folder placeholder
	m.objs["s3://renders/assets2/stray"] = nil // a sibling prefix, not the folder
	cfg := testConfig(t)
	r := runAssetJob(t, cfg, m)
	if !r.OK() {
		t.Fatalf("Run = %+v (message %q, stderr %q)", r, r.Message(), r.Stderr)
	}
	if got, want := string(r.Stdout), "<html>pngttf10000\ndeep logo.png "; got != want {
		t.Errorf("the chunk saw %q, want %q", got, want)
	}
	if n := len(m.downloaded()); n != len(objs) {
		t.Errorf("downloaded %d files, want %d: %q", n, len(objs), m.downloaded())
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// Names of up to 255 bytes, the file system's limit, are assets like any
// other, with the cache on or off, and beside a name that is another's
// plus a suffix (a download's temporary name never meets an asset's).
func TestAssetsLongNames(t *testing.T) {
	long := strings.Repeat("n", 255)
	objs := map[string]string{long: "a", "d/" + long: "b", "a.bin": "c", "a.bin.helios-partial": "d", "a.bin.tmp": "e"}
	for _, cacheBytes := range []int64{0, -1} {
		t.Run(fmt.Sprint("cache ", cacheBytes), func(t *testing.T) {
			m := assetJob(t, `sh -c 'cat `+long+` d/`+long+` a.bin a.bin.helios-partial a.bin.tmp'`, objs)
			cfg := testConfig(t)
			cfg.AssetsCacheBytes = cacheBytes
			r := runAssetJob(t, cfg, m)
			if !r.OK() || string(r.Stdout) != "abcde" {
				t.Fatalf("Run = %+v (message %q, stderr %q), want the five assets", r, r.Message(), r.Stderr)
			}
		})
	}
}

// A download that receives nothing for HELIOS_ASSETS_STALL_TIMEOUT is
// tried again, twice at most, and then fails saying it stalled.
func TestAssetsStalled(t *testing.T) {
	tests := []struct {
		name   string
		stalls int
		want   string // "" for success
	}{
		{"once", 1, ""},
		{"twice", 2, ""},
		{"every time", 3, "downloading asset a.bin: stalled: nothing came for 1s, 3 times; the last time after 0 of 8 bytes (HELIOS_ASSETS_STALL_TIMEOUT)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := assetJob(t, "cat a.bin", map[string]string{"a.bin": "original"})
			m.stalls = map[string]int{"s3://renders/assets/a.bin": tt.stalls}
			cfg := testConfig(t)
			// What is tested; and long enough that a loaded machine does not
			// make a download that is not held look stalled.
			cfg.AssetsStallTimeout = time.Second
			r := runAssetJob(t, cfg, m)
			if tt.want == "" {
				if !r.OK() || string(r.Stdout) != "original" || len(m.downloaded()) != tt.stalls+1 {
					t.Fatalf("Run = %+v (message %q), %d downloads; want the asset after %d stalls", r, r.Message(), len(m.downloaded()), tt.stalls)
				}
				return
			}
			if r.Started || !errors.Is(r.Err, worker.ErrTimeout) || !strings.Contains(r.Message(), tt.want) {
				t.Fatalf("Run = %+v (message %q), want %q", r, r.Message(), tt.want)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// An object replaced between the listing and its download, even by one
// of the same size, is not used: the download is pinned to the listed
// version, and the message says the object changed.
func TestAssetsChangedSinceListed(t *testing.T) {
	m := assetJob(t, "cat a.bin", map[string]string{"a.bin": "original"})
	m.versioned = true
	listed, err := m.List(t.Context(), "s3://renders/assets")
	if err != nil {
		t.Fatal(err)
	}
	m.listing = map[string][]store.Object{"s3://renders/assets": listed}
	m.objs["s3://renders/assets/a.bin"] = []byte("replaced") // same size, after the listing
	r := runAssetJob(t, testConfig(t), m)
	if r.Started || !errors.Is(r.Err, store.ErrChanged) || !strings.Contains(r.Message(), "downloading asset a.bin: changed since it was listed") {
		t.Fatalf("Run = %+v (message %q), want the replaced object refused", r, r.Message())
	}
}

// An object stored encoded (GCS gzip) arrives decoded, longer than its
// listed size: the chunk gets all of it, with the cache on and off; and
// what it decodes to counts against HELIOS_ASSETS_MAX_BYTES, so that a
// gzip bomb is cut off with a message that says so.
func TestAssetsEncoded(t *testing.T) {
	decoded := strings.Repeat("helios ", 1000) // 7000 bytes, listed as 120
	tests := []struct {
		name       string
		max, cache int64
		want       string // the chunk's output, or the error's text
	}{
		{"cache off", 1 << 20, 0, "7000"},
		{"cache on", 1 << 20, -1, "7000"},
		{"bomb", 5000, 0, "decoded to more than"},
		{"bomb, cache on", 5000, -1, "decoded to more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := assetJob(t, `sh -c 'wc -c < app.js'`, map[string]string{"app.js": decoded, "logo.png": "png"})
			m.listing = map[string][]store.Object{"s3://renders/assets": {
				{Path: "app.js", Size: 120, Version: "v1", Encoded: true},
				{Path: "logo.png", Size: 3, Version: "v1"},
			}}
			cfg := testConfig(t)
			cfg.AssetsMaxBytes, cfg.AssetsCacheBytes = tt.max, tt.cache
			for range 2 { // the second chunk from the cache, when it is on
				r := runAssetJob(t, cfg, m)
				if tt.want == "7000" {
					if !r.OK() || strings.TrimSpace(string(r.Stdout)) != "7000" {
						t.Fatalf("Run = %+v (message %q), want the 7000 decoded bytes", r, r.Message())
					}
					continue
				}
				if r.Started || !errors.Is(r.Err, store.ErrTooLarge) || !strings.Contains(r.Message(), tt.want) ||
					!strings.Contains(r.Message(), worker.EnvAssetsMaxBytes) {
					t.Fatalf("Run = %+v (message %q), want the bomb cut off", r, r.Message())
				}
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// Keys that would land outside the workspace, or that cannot all be
// written, are refused before any download starts, naming the key.
func TestAssetsRefused(t *testing.T) {
	tests := []struct {
		name    string
		listing []store.Object
		want    string
		is      error
	}{
		{"parent", []store.Object{{Path: "ok.txt", Size: 1}, {Path: "../escape.txt", Size: 1}}, `"../escape.txt"`, worker.ErrOutsideWorkspace},
		{"deep parent", []store.Object{{Path: "a/../../etc/passwd", Size: 1}}, `"a/../../etc/passwd"`, worker.ErrOutsideWorkspace},
		{"parent inside", []store.Object{{Path: "a/../b", Size: 1}}, `"a/../b"`, worker.ErrOutsideWorkspace},
		{"absolute", []store.Object{{Path: "/etc/cron.d/x", Size: 1}}, `"/etc/cron.d/x"`, worker.ErrOutsideWorkspace},
		{"dot dot alone", []store.Object{{Path: "..", Size: 1}}, `".."`, worker.ErrOutsideWorkspace},
		{"same file twice", []store.Object{{Path: "a/b", Size: 1}, {Path: "a//b", Size: 1}}, `"a//b"`, nil},
		{"file and folder", []store.Object{{Path: "a", Size: 1}, {Path: "a/b", Size: 1}}, `"a"`, nil},
		{"negative size", []store.Object{{Path: "a", Size: -1}}, `"a"`, nil},
		{"over the cap", []store.Object{{Path: "a", Size: 600}, {Path: "b", Size: 500}}, "1100 bytes", store.ErrTooLarge},
		{"dot", []store.Object{{Path: "ok", Size: 1}, {Path: ".", Size: 1}}, `asset key ".": names the folder itself`, nil},
		{"dot slash dot", []store.Object{{Path: "./.", Size: 1}}, `asset key "./.": names the folder itself`, nil},
		{"NUL", []store.Object{{Path: "a\x00b", Size: 1}}, `asset key "a\x00b": holds a NUL byte`, nil},
		{"name of 256 bytes", []store.Object{{Path: "d/" + strings.Repeat("n", 256), Size: 1}}, "has a name of 256 bytes, over the 255", nil},
		{"path of 3103 bytes", []store.Object{{Path: strings.Repeat(strings.Repeat("p", 200)+"/", 15) + strings.Repeat("q", 88), Size: 1}},
			"is 3103 bytes long, over the 3072", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outside := filepath.Join(t.TempDir(), "escaped")
			m := assetJob(t, "touch "+outside, nil)
			m.listing = map[string][]store.Object{"s3://renders/assets": tc.listing}
			cfg := testConfig(t)
			cfg.AssetsMaxBytes = 1000
			r := runAssetJob(t, cfg, m)
			if r.Started || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("Run = %+v (message %q), want an error naming %s", r, r.Message(), tc.want)
			}
			if tc.is != nil && !errors.Is(r.Err, tc.is) {
				t.Errorf("error %q does not wrap %v", r.Err, tc.is)
			}
			if d := m.downloaded(); len(d) != 0 {
				t.Errorf("downloaded %q before refusing", d)
			}
			if _, err := os.Stat(outside); err == nil {
				t.Error("the command ran")
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

func TestAssetsCapExact(t *testing.T) {
	m := assetJob(t, "true", map[string]string{"a": strings.Repeat("x", 600), "b/c": strings.Repeat("y", 400)})
	cfg := testConfig(t)
	cfg.AssetsMaxBytes = 1000
	if r := runAssetJob(t, cfg, m); !r.OK() {
		t.Errorf("assets of exactly the cap: Run = %+v (message %q)", r, r.Message())
	}
}

// A transfer that fails or stops short halfway fails the invocation, and
// no half-written file is left (the workspace goes with it).
func TestAssetsCutOff(t *testing.T) {
	errReset := errors.New("connection reset by peer")
	for name, cut := range map[string]func(*memStore){
		"error": func(m *memStore) { m.cut = map[string]error{"s3://renders/assets/big.bin": errReset} },
		"short": func(m *memStore) { m.short = map[string]bool{"s3://renders/assets/big.bin": true} },
	} {
		t.Run(name, func(t *testing.T) {
			m := assetJob(t, "true", map[string]string{"big.bin": strings.Repeat("z", 1<<20), "small": "s"})
			cut(m)
			cfg := testConfig(t)
			r := runAssetJob(t, cfg, m)
			if r.Started || r.Err == nil || !strings.Contains(r.Err.Error(), "big.bin") {
				t.Fatalf("Run = %+v, want a failure naming big.bin", r)
			}
			assertEmptyDir(t, cfg.WorkspaceRoot)
		})
	}
}

// An object that grew between the listing and its download is refused
// once it passes its listed size.
func TestAssetsLargerThanListed(t *testing.T) {
	m := assetJob(t, "true", map[string]string{"a": strings.Repeat("x", 100)})
	m.listing = map[string][]store.Object{"s3://renders/assets": {{Path: "a", Size: 10}}}
	cfg := testConfig(t)
	r := runAssetJob(t, cfg, m)
	if r.Started || !errors.Is(r.Err, store.ErrTooLarge) {
		t.Fatalf("Run = %+v, want ErrTooLarge", r)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

func TestAssetsConcurrencyBounded(t *testing.T) {
	objs := map[string]string{}
	for i := range 12 {
		objs[fmt.Sprintf("f%02d", i)] = "x"
	}
	for _, n := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := assetJob(t, "true", objs)
			m.delay = 100 * time.Millisecond // so that transfers overlap when allowed to
			cfg := testConfig(t)
			cfg.AssetsConcurrency = n
			if r := runAssetJob(t, cfg, m); !r.OK() {
				t.Fatalf("Run = %+v", r)
			}
			if m.max > n || (n > 1 && m.max < 2) {
				t.Errorf("%d transfers at once, want at most %d (and more than one when allowed)", m.max, n)
			}
		})
	}
}

func TestAssetsTimeout(t *testing.T) {
	m := assetJob(t, "true", map[string]string{"slow": "x"})
	m.delay = time.Minute
	cfg := testConfig(t)
	cfg.AssetsTimeout = 100 * time.Millisecond
	start := time.Now()
	r := runAssetJob(t, cfg, m)
	if r.Started || !errors.Is(r.Err, worker.ErrTimeout) || !strings.Contains(r.Err.Error(), worker.EnvAssetsTimeout) {
		t.Fatalf("Run = %+v, want a timeout naming %s", r, worker.EnvAssetsTimeout)
	}
	if d := time.Since(start); d > 30*time.Second { // half the download's minute
		t.Errorf("the timeout took %v", d)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}

// A local asset folder may hold links; none is followed out of it, and
// nothing is written through one.
func TestAssetsLocalLinksNotFollowed(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	assets := t.TempDir()
	if err := os.WriteFile(filepath.Join(assets, "real.txt"), []byte("real"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"to-secret.txt": secret, "to-dir": filepath.Dir(secret)} {
		if err := os.Symlink(target, filepath.Join(assets, link)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t)
	spec := oneChunk(`sh -c 'ls -A'`)
	spec.AssetsURL = assets
	r := newWorker(cfg).Run(t.Context(), jobspec.Request{JobPath: writeSpec(t, spec)})
	if !r.OK() || string(r.Stdout) != "real.txt\n" {
		t.Errorf("Run = %+v (stdout %q), want only real.txt in the workspace", r, r.Stdout)
	}
	assertEmptyDir(t, cfg.WorkspaceRoot)
}
