package fanout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// ErrMissing is an output that is not in its bucket.
var ErrMissing = errors.New("output missing")

// An Output is one chunk's output to collect.
type Output struct {
	Chunk int64
	URL   string // where the worker put it
	File  string // the chunk's outputFile: where it goes below the folder
}

// CollectStats is what [Collect] did.
type CollectStats struct {
	Files, Fetched int   // outputs, and those downloaded (the others were in place)
	Bytes          int64 // downloaded
	// Missing are the outputs that are not in their bucket, by chunk.
	Missing []Output
}

// Collect downloads each output into dir at its File path, concurrency at
// a time, and checks it against the store's checksum; a file already
// there that matches is not downloaded again. Each lands under a
// temporary name, renamed once whole and checked. Outputs not in their
// bucket are listed in Missing, not downloaded; the others are.
func Collect(ctx context.Context, b Bucket, outs []Output, dir string, concurrency int) (CollectStats, error) {
	st := CollectStats{Files: len(outs)}
	listed, err := listFolders(ctx, b, outs)
	if err != nil {
		return st, err
	}
	var present []Output
	for _, o := range outs {
		if _, ok := listed[o.URL]; ok {
			present = append(present, o)
		} else {
			st.Missing = append(st.Missing, o)
		}
	}
	var fetched, bytes atomic.Int64
	err = forEach(ctx, present, concurrency, func(ctx context.Context, o Output) error {
		n, err := collectOne(ctx, b, o, listed[o.URL], filepath.Join(dir, filepath.FromSlash(o.File)))
		if n >= 0 {
			fetched.Add(1)
			bytes.Add(n)
		}
		return err
	})
	st.Fetched, st.Bytes = int(fetched.Load()), bytes.Load()
	return st, err
}

// listFolders lists each folder that an output is in, once, and returns
// the objects by location.
func listFolders(ctx context.Context, b Bucket, outs []Output) (map[string]worker.Object, error) {
	objs := map[string]worker.Object{}
	seen := map[string]bool{}
	for _, o := range outs {
		folder, _ := folderOf(o.URL)
		if seen[folder] {
			continue
		}
		seen[folder] = true
		list, err := b.List(ctx, folder)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", folder, err)
		}
		for _, obj := range list {
			objs[worker.JoinLocation(folder, obj.Path)] = obj
		}
	}
	return objs, nil
}

// collectOne puts o at name, unless a file that matches obj is there; it
// returns the bytes downloaded, or -1 for none.
func collectOne(ctx context.Context, b Bucket, o Output, obj worker.Object, name string) (int64, error) {
	if f, err := os.Open(name); err == nil {
		same, _ := b.Matches(obj, f, obj.Size)
		f.Close()
		if same {
			return -1, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return 0, fmt.Errorf("collecting chunk %d: %w", o.Chunk, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".helios-*.tmp")
	if err != nil {
		return 0, fmt.Errorf("collecting chunk %d: %w", o.Chunk, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// Not synced: a file left torn by a crash fails the check next time
	// and is downloaded again.
	n, err := downloadVerified(ctx, b, o.URL, obj, tmp)
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return 0, fmt.Errorf("collecting chunk %d from %s: %w", o.Chunk, o.URL, err)
	}
	return n, nil
}

// downloadVerified downloads the version of location that obj is into f
// and checks it against obj's checksum: the Bucket's Download does when
// it has a VerifiesDownloads method that says so (gcsstore checks each
// download's CRC32C as it arrives); otherwise f is read again.
func downloadVerified(ctx context.Context, b Bucket, location string, obj worker.Object, f *os.File) (int64, error) {
	var n int64
	var err error
	if vs, ok := b.(worker.VersionedSource); ok && obj.Version != "" {
		n, err = vs.DownloadVersion(ctx, location, obj.Version, f)
	} else {
		n, err = b.Download(ctx, location, f)
	}
	if err != nil {
		return n, err
	}
	if n != obj.Size {
		return n, fmt.Errorf("got %d bytes, the listing says %d", n, obj.Size)
	}
	if v, ok := b.(interface{ VerifiesDownloads() bool }); ok && v.VerifiesDownloads() {
		return n, nil
	}
	same, err := b.Matches(obj, f, n)
	if err != nil {
		return n, err
	}
	if !same {
		return n, errors.New("the downloaded bytes do not match the store's checksum")
	}
	return n, nil
}
