package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Transfer bench files: what 40 chunks of a render upload and collect.
// Each transfer takes under a second against the emulators, so its
// median is taken over more runs than the dispatch figures.
const (
	transferFiles = 40
	transferSize  = 2 << 20
	transferRuns  = 9
)

// pooledClient keeps n connections alive, one per call in flight.
func pooledClient(n int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = n
	return &http.Client{Transport: tr}
}

// measureTransfers times run's upload (fanout.Sync: list, compare, put)
// and collect (fanout.Collect: list, download, verify) against the same
// files put and downloaded through the store alone, at the same
// concurrency, on both stores.
func measureTransfers(ctx context.Context, r *report, dir string, o options) error {
	set := &fanout.FileSet{Dir: filepath.Join(dir, "transfer")}
	if err := writeFolder(set.Dir, transferFiles, transferFiles*transferSize); err != nil {
		return err
	}
	entries, _ := os.ReadDir(set.Dir)
	for _, e := range entries {
		info, _ := e.Info()
		set.Files = append(set.Files, fanout.File{Rel: e.Name(), Size: info.Size()})
		set.Bytes += info.Size()
	}
	st, err := startStores(ctx, "helios-fanout")
	if err != nil {
		return err
	}
	defer st.close()
	for _, s := range []*storeBench{st.s3, st.gcs} {
		if err := measureTransfer(ctx, r, s, set, dir); err != nil {
			return err
		}
	}
	return nil
}

func measureTransfer(ctx context.Context, r *report, s *storeBench, set *fanout.FileSet, dir string) error {
	b := s.store.(fanout.Bucket)
	// Each output with the size and SHA-256 its worker would answer with,
	// as run collects them: every download is hashed and compared.
	inputs, err := fanout.HashInputs(ctx, set)
	if err != nil {
		return err
	}
	var outs []fanout.Output
	for _, f := range set.Files {
		_, sum, _ := strings.Cut(inputs[f.Rel], " sha256:")
		outs = append(outs, fanout.Output{URL: s.url("collect/" + f.Rel), File: f.Rel, Bytes: f.Size, SHA256: sum})
	}
	if _, err := fanout.Sync(ctx, b, set, s.url("collect"), 16, nil); err != nil {
		return err
	}
	n := 0
	upload := func() (time.Duration, error) {
		n++
		start := time.Now()
		_, err := fanout.Sync(ctx, b, set, s.url(fmt.Sprintf("sync-%d", n)), 16, nil)
		return time.Since(start), err
	}
	putAll := func() error {
		n++
		prefix := s.url(fmt.Sprintf("put-%d", n))
		return forEachFile(set.Files, 16, func(f fanout.File) error {
			file, err := os.Open(filepath.Join(set.Dir, f.Rel))
			if err != nil {
				return err
			}
			defer file.Close()
			return b.Put(ctx, store.JoinLocation(prefix, f.Rel), file, f.Size)
		})
	}
	what := fmt.Sprintf("%s: run's upload of %d files of %s", s.name, transferFiles, size(transferSize))
	if err := compare(r, what, set.Bytes, transferRuns, upload, putAll, "the store's Put, 16 at a time"); err != nil {
		return err
	}
	collect := func() (time.Duration, error) {
		out := filepath.Join(dir, "collected")
		defer os.RemoveAll(out)
		start := time.Now()
		st, err := fanout.Collect(ctx, b, outs, out, 8)
		if err == nil && len(st.Bad)+len(st.Missing) > 0 {
			err = fmt.Errorf("collect: %d outputs missing, %d not proven", len(st.Missing), len(st.Bad))
		}
		return time.Since(start), err
	}
	downloadAll := func() error {
		out := filepath.Join(dir, "downloaded")
		defer os.RemoveAll(out)
		os.MkdirAll(out, 0o755)
		return forEachFile(set.Files, 8, func(f fanout.File) error {
			file, err := os.Create(filepath.Join(out, f.Rel))
			if err != nil {
				return err
			}
			defer file.Close()
			_, err = b.Download(ctx, s.url("collect/"+f.Rel), file)
			return err
		})
	}
	what = fmt.Sprintf("%s: run's collect of %d files of %s", s.name, transferFiles, size(transferSize))
	return compare(r, what, set.Bytes, transferRuns, collect, downloadAll, "the store's Download, 8 at a time")
}

// forEachFile calls fn for every file, n at a time, and returns the
// first error.
func forEachFile(files []fanout.File, n int, fn func(fanout.File) error) error {
	errs := make(chan error, len(files))
	sem := make(chan struct{}, n)
	for _, f := range files {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- fn(f)
		}()
	}
	for range files {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// runMemory runs the helios-scaffold binary on a 10,000-chunk spec of
// true on local, concurrency 8, and reports its peak RSS and the state
// file's size, against a 1,000-chunk run's (the state file grows by a
// line per chunk).
func runMemory(ctx context.Context, r *report, dir string) error {
	cli := filepath.Join(dir, "helios-scaffold")
	build := exec.CommandContext(ctx, "go", "build", "-o", cli, ".")
	if root, err := moduleRoot(ctx); err == nil {
		build.Dir = root
	}
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the CLI: %w\n%s", err, out)
	}
	var rss, state [2]int64
	for i, n := range []int{1000, 10000} {
		job, err := writeTrueSpec(dir, fmt.Sprintf("mem%d", n), n, "true")
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, cli, "run", job.Location, "--target", "local", "--concurrency", "8",
			"--progress", "json", "--workspace-root", filepath.Join(dir, "memws"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("run of %d chunks: %w\n%s", n, err, out[max(0, len(out)-2000):])
		}
		rss[i] = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		info, err := os.Stat(filepath.Join(filepath.Dir(job.Location), ".job.helios-run"))
		if err != nil {
			return err
		}
		state[i] = info.Size()
	}
	r.add("run process peak RSS, 10,000 chunks (local, concurrency 8)", mib(rss[1]), mib(rss[0])+" (1,000 chunks)",
		fmt.Sprintf("%.2f", float64(rss[1])/float64(rss[0])))
	r.add("run state file, 10,000 chunks", size(state[1]), size(state[0])+" (1,000 chunks)",
		fmt.Sprintf("%.2f", float64(state[1])/float64(state[0])))
	return nil
}

// moduleRoot is the folder of the module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}
