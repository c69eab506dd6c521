package worker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// warmJob is a versioned store holding a spec at s3://renders/job.json
// whose chunk i runs commands[i] over the assets in s3://renders/assets,
// and a worker kept across its runs, as a warm instance keeps it.
type warmJob struct {
	t   *testing.T
	cfg worker.Config
	m   *memStore
	w   *worker.Worker
	log *bytes.Buffer
	mu  sync.Mutex // guards log
}

func newWarmJob(t *testing.T, cfg worker.Config, assets map[string]string, commands ...string) *warmJob {
	t.Helper()
	spec := jobspec.Spec{ID: "warm", AssetsURL: "s3://renders/assets"}
	for i, c := range commands {
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), Command: c, OutputFile: "out"})
	}
	m := newMemStore(map[string][]byte{"s3://renders/job.json": marshalSpec(t, spec)})
	m.versioned = true
	for rel, data := range assets {
		m.objs["s3://renders/assets/"+rel] = []byte(data)
	}
	j := &warmJob{t: t, cfg: cfg, m: m, log: new(bytes.Buffer)}
	j.w = newWorker(cfg, worker.WithSource("s3", m), worker.WithLogger(slog.New(slog.NewJSONHandler(lockedWriter{j}, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	return j
}

type lockedWriter struct{ j *warmJob }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.j.mu.Lock()
	defer l.j.mu.Unlock()
	return l.j.log.Write(p)
}

// run runs chunk i and fails the test unless it succeeded; it returns
// the chunk's stdout.
func (j *warmJob) run(i int64) string {
	j.t.Helper()
	r := j.w.Run(j.t.Context(), jobspec.Request{JobPath: "s3://renders/job.json", ChunkIndex: i})
	if !r.OK() {
		j.t.Fatalf("chunk %d: %+v (message %q, stderr %q)", i, r, r.Message(), r.Stderr)
	}
	return string(r.Stdout)
}

// fetched returns the "assets fetched" records logged so far.
func (j *warmJob) fetched() []map[string]any {
	j.mu.Lock()
	defer j.mu.Unlock()
	var recs []map[string]any
	for line := range bytes.Lines(j.log.Bytes()) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["msg"] == "assets fetched" {
			recs = append(recs, rec)
		}
	}
	return recs
}

// cached returns the files in the worker's asset cache.
func cached(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	own, _ := filepath.Glob(filepath.Join(root, cacheDirName, "p-*"))
	for _, dir := range own {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name() != ".lock" { // not the spare folder
				files = append(files, e.Name())
			}
		}
	}
	return files
}

func TestCacheHit(t *testing.T) {
	assets := map[string]string{"composition.html": "<html>", "img/logo.png": "png", ".tmp/x": "x"}
	cat := `sh -c 'ls -A; cat composition.html img/logo.png .tmp/x'`
	j := newWarmJob(t, testConfig(t), assets, cat, cat, cat)
	for i := range int64(3) {
		if got, want := j.run(i), ".tmp\ncomposition.html\nimg\n<html>pngx"; got != want {
			t.Errorf("chunk %d saw %q, want %q: the assets and nothing else", i, got, want)
		}
	}
	if n := len(j.m.downloaded()); n != len(assets) {
		t.Errorf("%d downloads for 3 chunks, want %d: %q", n, len(assets), j.m.downloaded())
	}
	recs := j.fetched()
	if len(recs) != 3 {
		t.Fatalf("%d assets fetched records, want 3", len(recs))
	}
	for i, want := range [][2]float64{{0, 3}, {3, 0}, {3, 0}} {
		if recs[i]["cachedFiles"] != want[0] || recs[i]["downloadedFiles"] != want[1] {
			t.Errorf("chunk %d: cachedFiles %v downloadedFiles %v, want %v", i, recs[i]["cachedFiles"], recs[i]["downloadedFiles"], want)
		}
		if got, want := recs[i]["spare"], i > 0; got != want {
			t.Errorf("chunk %d: spare %v, want %v", i, got, want)
		}
	}
	if got := cached(t, j.cfg.WorkspaceRoot); len(got) != len(assets) {
		t.Errorf("cache holds %q, want %d files", got, len(assets))
	}
	assertEmptyDir(t, j.cfg.WorkspaceRoot)
}

// A changed object is downloaded again; a removed one is gone from the
// next chunk's folder, and an added one is there.
func TestCacheChangedListing(t *testing.T) {
	cat := `sh -c 'for f in *; do printf "%s=%s " "$f" "$(cat "$f")"; done'`
	j := newWarmJob(t, testConfig(t), map[string]string{"a": "1", "b": "2"}, cat, cat, cat, cat)
	steps := []struct {
		change    func()
		want      string
		downloads int
	}{
		{func() {}, "a=1 b=2 ", 2},
		{func() { j.m.set("s3://renders/assets/a", []byte("one")) }, "a=one b=2 ", 3},
		{func() { j.m.del("s3://renders/assets/b") }, "a=one ", 3},
		{func() { j.m.set("s3://renders/assets/c", []byte("3")) }, "a=one c=3 ", 4},
	}
	for i, s := range steps {
		s.change()
		if got := j.run(int64(i)); got != s.want {
			t.Errorf("chunk %d saw %q, want %q", i, got, s.want)
		}
		if n := len(j.m.downloaded()); n != s.downloads {
			t.Errorf("after chunk %d: %d downloads, want %d", i, n, s.downloads)
		}
	}
}

// What a chunk does to its assets does not reach the next chunk: written
// or truncated files are downloaded again, renamed or deleted ones are
// still served from the cache.
func TestCacheVandalised(t *testing.T) {
	tests := []struct {
		name     string
		vandal   string
		redownld bool
	}{
		{"append", `echo evil >> a.txt`, true},
		{"overwrite in place", `printf X | dd of=a.txt conv=notrunc status=none`, true},
		{"truncate", `: > a.txt`, true},
		{"open for writing only", `exec 3>>a.txt`, true},
		{"chmod", `chmod 000 a.txt`, true},
		{"touch", `touch -d 2001-01-01 a.txt`, true},
		{"hard link kept elsewhere", `ln a.txt "$TMPDIR/../../keep-$$" 2>/dev/null || ln a.txt keep`, true},
		{"rename", `mv a.txt moved.txt`, false},
		{"delete", `rm a.txt`, false},
		{"delete the folder", `rm -r sub`, false},
	}
	if _, err := exec.LookPath("python3"); err == nil {
		tests = append(tests, struct {
			name     string
			vandal   string
			redownld bool
		}{"shared memory map", `python3 -c "import mmap; f=open('a.txt','r+b'); m=mmap.mmap(f.fileno(), 0); m[0:4]=b'EVIL'; m.flush()"`, true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := `sh -c 'cat a.txt sub/b.txt; stat -c " %a %s" a.txt'`
			j := newWarmJob(t, testConfig(t), map[string]string{"a.txt": "original", "sub/b.txt": "b"},
				`sh -c '`+strings.ReplaceAll(tt.vandal, `'`, `'\''`)+`'`, check)
			j.run(0)
			if got, want := j.run(1), "originalb 644 8\n"; got != want {
				t.Errorf("after %s, the next chunk saw %q, want %q", tt.name, got, want)
			}
			want := 2
			if tt.redownld {
				want = 3
			}
			if got := j.m.downloaded(); len(got) != want {
				t.Errorf("downloads %q, want %d", got, want)
			}
		})
	}
}

// What a chunk does to the spare, the next chunk's folder that the cache
// makes while the chunk runs, does not reach the next chunk either: it
// gets its assets and nothing else.
func TestCacheSpareVandalised(t *testing.T) {
	tests := []struct{ name, vandal string }{
		{"extra file", `touch "$S/extra"`},
		{"extra file in a folder", `touch "$S/sub/extra"`},
		{"extra folder", `mkdir "$S/more"`},
		{"file replaced", `rm "$S/a.txt"; echo evil > "$S/a.txt"`},
		{"file removed", `rm "$S/a.txt"`},
		{"written through the spare", `echo evil >> "$S/a.txt"`},
		{"chmod through the spare", `chmod 600 "$S/a.txt"`},
		{"folder chmodded", `chmod 700 "$S/sub"`},
		{"folder made a link", `mv "$S/sub" "$TMPDIR/sub"; ln -s "$TMPDIR/sub" "$S/sub"`},
		{"hard link kept elsewhere", `ln "$S/a.txt" "$TMPDIR/../../keep-$$"`},
	}
	// The spare is made while the chunk runs: wait (up to a minute) for
	// its last file (files are linked largest first).
	wait := `for i in $(seq 6000); do S=$(echo ../../` + cacheDirName + `/p-*/s-*); [ -e "$S/sub/b.txt" ] && break; sleep 0.01; done; [ -e "$S/sub/b.txt" ] || exit 9; `
	check := `sh -c 'ls -AR; cat a.txt sub/b.txt; stat -c " %a %s" a.txt sub'`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := `sh -c '` + strings.ReplaceAll(wait+tt.vandal, `'`, `'\''`) + `'`
			j := newWarmJob(t, testConfig(t), map[string]string{"a.txt": "original", "sub/b.txt": "b"}, cmd, check)
			j.run(0)
			want := ".:\na.txt\nsub\n\n./sub:\nb.txt\noriginalb 644 8\n 755 4096\n"
			if got := j.run(1); got != want {
				t.Errorf("after %s, the next chunk saw %q, want %q", tt.name, got, want)
			}
			if recs := j.fetched(); recs[1]["spare"] != false {
				t.Errorf("the next chunk took the vandalised spare: %v", recs[1])
			}
		})
	}
}

// With the cache at its bound, the least recently used files go.
func TestCacheEviction(t *testing.T) {
	cfg := testConfig(t)
	cfg.AssetsCacheBytes = 250
	big := strings.Repeat("x", 100)
	cat := `sh -c 'cat * | wc -c'`
	j := newWarmJob(t, cfg, map[string]string{"a": big, "b": big, "c": big}, cat, cat, cat)
	j.run(0) // three files of 100 bytes: the first one placed is evicted for the third
	if got := cached(t, cfg.WorkspaceRoot); len(got) != 2 {
		t.Errorf("cache holds %d files, want 2 of 100 bytes under its bound of 250", len(got))
	}
	j.run(1)
	if got := cached(t, cfg.WorkspaceRoot); len(got) != 2 {
		t.Errorf("after two chunks the cache holds %d files, want 2 under its bound of 250", len(got))
	}
	// Which files stay depends on the order of the concurrent placements:
	// at least the third file comes again, at most all three.
	if n := len(j.m.downloaded()); n < 4 || n > 6 {
		t.Errorf("%d downloads for two chunks of 3 files with room for 2, want 4 to 6", n)
	}
	// A file larger than the whole cache is downloaded, not cached.
	j.m.set("s3://renders/assets/huge", []byte(strings.Repeat("h", 300)))
	if got := strings.TrimSpace(j.run(2)); got != "600" {
		t.Errorf("chunk 2 read %s bytes, want 600", got)
	}
}

func TestCacheOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.AssetsCacheBytes = 0
	cat := `cat a`
	j := newWarmJob(t, cfg, map[string]string{"a": "1"}, cat, cat)
	j.run(0)
	j.run(1)
	if n := len(j.m.downloaded()); n != 2 {
		t.Errorf("%d downloads with the cache off, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(cfg.WorkspaceRoot, cacheDirName)); !os.IsNotExist(err) {
		t.Errorf("the cache off made its folder: %v", err)
	}
}

// Two chunks at once download each object once; the second gets a copy,
// so that what the first writes to its file does not reach it.
func TestCacheConcurrentChunks(t *testing.T) {
	meet := t.TempDir()
	first := `sh -c 'touch ` + meet + `/a; while [ ! -e ` + meet + `/b ]; do sleep 0.01; done; echo evil >> a.txt; touch ` + meet + `/a-wrote'`
	second := `sh -c 'touch ` + meet + `/b; while [ ! -e ` + meet + `/a-wrote ]; do sleep 0.01; done; cat a.txt'`
	j := newWarmJob(t, testConfig(t), map[string]string{"a.txt": "original"}, first, second)
	j.m.delay = time.Second // both chunks ask while the download is on its way
	var wg sync.WaitGroup
	var got string
	wg.Go(func() { j.run(0) })
	wg.Go(func() { got = j.run(1) })
	wg.Wait()
	if got != "original" {
		t.Errorf("the second chunk saw %q, want the original", got)
	}
	if n := len(j.m.downloaded()); n != 1 {
		t.Errorf("%d downloads for two chunks at once, want 1", n)
	}
}

// A download cut off halfway leaves nothing in the cache, and the next
// chunk downloads the file whole.
func TestCacheCutDownload(t *testing.T) {
	cfg := testConfig(t)
	cat := `cat a.bin`
	j := newWarmJob(t, cfg, map[string]string{"a.bin": "0123456789"}, cat, cat)
	j.m.cut = map[string]error{"s3://renders/assets/a.bin": errors.New("connection reset")}
	r := j.w.Run(t.Context(), jobspec.Request{JobPath: "s3://renders/job.json"})
	if r.Started || r.Err == nil {
		t.Fatalf("Run = %+v, want the chunk refused for its cut download", r)
	}
	if got := cached(t, cfg.WorkspaceRoot); len(got) != 0 {
		t.Errorf("a cut download left %q in the cache", got)
	}
	j.m.cut = nil
	if got := j.run(1); got != "0123456789" {
		t.Errorf("the next chunk saw %q", got)
	}
}

// The folders of cache owners that are gone are removed; a live owner's
// and anything else in the cache folder are kept.
func TestCacheAbandonedRemoved(t *testing.T) {
	cfg := testConfig(t)
	dir := filepath.Join(cfg.WorkspaceRoot, cacheDirName)
	for _, p := range []string{"p-dead/.lock", "p-dead/file", "other/file", "p-nolock/file"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live := newWarmJob(t, cfg, map[string]string{"a": "1"}, "true")
	live.run(0)
	j := newWarmJob(t, cfg, map[string]string{"a": "1"}, "true")
	j.run(0)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if slices.Contains(names, "p-dead") || !slices.Contains(names, "other") || !slices.Contains(names, "p-nolock") || len(names) != 4 {
		t.Errorf("cache folder holds %q, want other, p-nolock and the two live workers' folders", names)
	}
}

// Close removes the cache; the worker still runs chunks after, each
// downloading its files.
func TestCacheClose(t *testing.T) {
	cfg := testConfig(t)
	cat := `cat a`
	j := newWarmJob(t, cfg, map[string]string{"a": "1"}, cat, cat)
	j.run(0)
	if err := j.w.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(cfg.WorkspaceRoot); len(entries) != 0 {
		t.Errorf("Close left %v in the workspace root", entries)
	}
	if got := j.run(1); got != "1" {
		t.Errorf("a chunk after Close saw %q", got)
	}
	if n := len(j.m.downloaded()); n != 2 {
		t.Errorf("%d downloads, want 2: after Close nothing is cached", n)
	}
	if err := newWorker(cfg).Close(); err != nil {
		t.Errorf("Close of a worker that fetched nothing: %v", err)
	}
}
