package fanout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// ErrMissing is an output that is not in its bucket.
var ErrMissing = errors.New("output missing")

// ErrUnproven is an output whose bytes do not match what its worker
// recorded, or that nothing can check: it is not merged.
var ErrUnproven = errors.New("output does not match what its worker put")

// An Output is one chunk's output to collect.
type Output struct {
	Chunk int64
	URL   string // where the worker put it
	File  string // the chunk's outputFile: where it goes below the folder
	// Bytes and SHA256 are what its worker said it put, when known
	// (Bytes -1 and SHA256 "" when not: --collect-only).
	Bytes  int64
	SHA256 string
}

// A BadOutput is an output that did not hold up, and why.
type BadOutput struct {
	Output
	Why     string
	Missing bool // not in its bucket at all
	// Video marks an output that is as its worker put it, but is not the
	// video its chunk renders (run's check with ffprobe).
	Video bool
}

// CollectStats is what [Collect] did.
type CollectStats struct {
	Files, Fetched int   // outputs, and those downloaded (the others were in place)
	Bytes          int64 // downloaded
	// Missing are the outputs that are not in their bucket, by chunk.
	Missing []Output
	// Bad are the outputs that are there but not as their worker put
	// them (another size or SHA-256): replaced, or corrupted on the way.
	Bad []BadOutput
}

// Collect downloads each output into dir at its File path, concurrency at
// a time, and proves it: its size and SHA-256 match what its worker said
// it put, or, where the worker did not say, the store's checksum matches
// the bytes received (a store that keeps none cannot prove a download,
// which then fails). A file already there that matches is not downloaded
// again. Each lands under a temporary name, renamed once proven. Outputs
// not in their bucket are listed in Missing, and those that do not match
// in Bad, not downloaded; the others are.
func Collect(ctx context.Context, b Bucket, outs []Output, dir string, concurrency int) (CollectStats, error) {
	st := CollectStats{Files: len(outs)}
	listed, err := listFolders(ctx, b, outs)
	if err != nil {
		return st, err
	}
	var present []Output
	st.Missing, st.Bad, present = sortListed(outs, listed)
	var fetched, bytes atomic.Int64
	var mu sync.Mutex
	err = forEach(ctx, present, concurrency, func(ctx context.Context, o Output) error {
		n, err := collectOne(ctx, b, o, listed[o.URL], filepath.Join(dir, filepath.FromSlash(o.File)))
		if n >= 0 {
			fetched.Add(1)
			bytes.Add(n)
		}
		if errors.Is(err, ErrUnproven) {
			mu.Lock()
			st.Bad = append(st.Bad, BadOutput{Output: o, Why: err.Error()})
			mu.Unlock()
			return nil
		}
		return err
	})
	st.Fetched, st.Bytes = int(fetched.Load()), bytes.Load()
	return st, err
}

// listFolders lists each folder that an output is in, once, and returns
// the objects by location.
func listFolders(ctx context.Context, b Bucket, outs []Output) (map[string]store.Object, error) {
	objs := map[string]store.Object{}
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
			objs[store.JoinLocation(folder, obj.Path)] = obj
		}
	}
	return objs, nil
}

// collectOne puts o at name, unless a file that matches it is there; it
// returns the bytes downloaded, or -1 for none.
func collectOne(ctx context.Context, b Bucket, o Output, obj store.Object, name string) (int64, error) {
	if inPlace(b, o, obj, name) {
		return -1, nil
	}
	folder := filepath.Dir(name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return 0, fmt.Errorf("collecting chunk %d: %w", o.Chunk, err)
	}
	tmp, err := store.CreateTempBeside(name)
	if err != nil {
		return 0, fmt.Errorf("collecting chunk %d: %w", o.Chunk, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// Not synced: a file left torn by a crash fails the check next time
	// and is downloaded again.
	n, err := downloadProven(ctx, b, o, obj, tmp)
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return 0, fmt.Errorf("collecting chunk %d from %s: %w", o.Chunk, o.URL, err)
	}
	return n, nil
}

// inPlace reports whether the file at name holds o already: its SHA-256
// is the worker's, or, without one, the store's checksum matches it.
func inPlace(b Bucket, o Output, obj store.Object, name string) bool {
	if info, err := os.Lstat(name); err != nil || !info.Mode().IsRegular() {
		return false // a FIFO would block the open; the rename replaces it
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if o.SHA256 != "" {
		sum, n, err := hashReader(f)
		return err == nil && n == obj.Size && sum == o.SHA256
	}
	same, _ := b.Matches(obj, f, obj.Size)
	return same
}

// downloadProven downloads the version of o that obj is into f and
// proves it: its size is the listing's, and its SHA-256 (computed as the
// bytes arrive) the worker's; without the worker's, the Bucket's Download
// does when it has a VerifiesDownloads method that says so (gcsstore
// checks each download's CRC32C as it arrives), or else the store's
// checksum must match f when read again.
func downloadProven(ctx context.Context, b Bucket, o Output, obj store.Object, f *os.File) (int64, error) {
	dst := &hashingWriterAt{f: f, h: sha256.New(), inOrder: true}
	var n int64
	var err error
	if vs, ok := b.(store.VersionedSource); ok && obj.Version != "" {
		n, err = vs.DownloadVersion(ctx, o.URL, obj.Version, dst)
	} else {
		n, err = b.Download(ctx, o.URL, dst)
	}
	if err != nil {
		return n, err
	}
	if n != obj.Size {
		return n, fmt.Errorf("%w: got %d bytes, the listing says %d", ErrUnproven, n, obj.Size)
	}
	if o.SHA256 != "" {
		got, err := dst.sum(n)
		if err != nil {
			return n, err
		}
		if got != o.SHA256 {
			return n, fmt.Errorf("%w: the bytes received have SHA-256 %s; its worker put %s", ErrUnproven, got, o.SHA256)
		}
		return n, nil
	}
	if v, ok := b.(interface{ VerifiesDownloads() bool }); ok && v.VerifiesDownloads() {
		return n, nil
	}
	same, err := b.Matches(obj, f, n)
	if err != nil {
		return n, err
	}
	if !same {
		return n, fmt.Errorf("%w: the bytes received do not match the store's checksum, or the store keeps none that can be checked", ErrUnproven)
	}
	return n, nil
}

// hashingWriterAt writes a download into f and hashes it as it comes,
// as long as it comes in order; a store that writes parts out of order
// has the file read again instead.
type hashingWriterAt struct {
	f       *os.File
	h       hash.Hash
	mu      sync.Mutex
	next    int64
	inOrder bool
}

func (w *hashingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := w.f.WriteAt(p, off)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inOrder && off == w.next && err == nil {
		w.h.Write(p)
		w.next += int64(n)
	} else {
		w.inOrder = false
	}
	return n, err
}

// sum is the hex SHA-256 of the n bytes written.
func (w *hashingWriterAt) sum(n int64) (string, error) {
	if w.inOrder && w.next == n {
		return hex.EncodeToString(w.h.Sum(nil)), nil
	}
	sum, _, err := hashReader(io.NewSectionReader(w.f, 0, n))
	return sum, err
}

// hashReader returns the hex SHA-256 of what r holds and its size.
func hashReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// tempPrefix is the start of the name of a temporary file beside name,
// as worker.CreateTempBeside makes it for Collect and for a local
// worker's output: ".NAME.helios-". [RemoveTemps] removes what a killed
// one left.
func tempPrefix(name string) string { return "." + filepath.Base(name) + ".helios-" }

// RemoveTemps removes the temporary files that a killed Collect (or a
// local worker's output write) left beside the outputs' files in dir, and
// the outputs of later attempts that a killed local run had not yet put
// in place ([jobspec.AttemptName]).
func RemoveTemps(dir string, outs []Output) {
	for _, o := range outs {
		name := filepath.Join(dir, filepath.FromSlash(o.File))
		temps, _ := filepath.Glob(filepath.Join(filepath.Dir(name), globEscape(tempPrefix(name))+"*.tmp"))
		attempts, _ := filepath.Glob(filepath.Join(globEscape(dir), filepath.FromSlash(AttemptsGlob(o.File))))
		for _, t := range append(temps, attempts...) {
			if info, err := os.Lstat(t); err == nil && info.Mode().IsRegular() && isTemp(o.File, dir, t) {
				os.Remove(t)
			}
		}
	}
}

// AttemptsGlob is a pattern that matches the names of file's later
// attempts, with "*" for the attempt's number: "out.attempt-*.mp4"; the
// characters of file that a glob (or a gitignore pattern) treats as
// special are escaped.
func AttemptsGlob(file string) string {
	name := globEscape(jobspec.AttemptName(file, 2))
	i := strings.LastIndex(name, ".attempt-2")
	return name[:i] + ".attempt-*" + name[i+len(".attempt-2"):]
}

// isTemp reports whether path, which a glob of file's temporaries
// matched in dir, is one: a collect's temporary, or exactly an
// attempt's name.
func isTemp(file, dir, path string) bool {
	if strings.HasSuffix(path, ".tmp") && strings.HasPrefix(filepath.Base(path), tempPrefix(file)) {
		return true
	}
	for n := 2; n <= jobspec.MaxAttempt; n++ {
		if path == filepath.Join(dir, filepath.FromSlash(jobspec.AttemptName(file, n))) {
			return true
		}
	}
	return false
}

// globEscape quotes the characters that filepath.Match treats as special.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
