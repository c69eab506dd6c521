package worker_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// memStore is a bucket store in memory: a FolderSource and a Sink whose
// objects are keyed by their whole location ("s3://b/assets/a.png"). Its
// knobs make transfers slow, cut off or refused, and it records what it
// was asked, so that tests can check what the worker did and did not do.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	// listing, when set for a folder location, is what List returns for
	// it, whatever the objects are: keys a store could hold but that a
	// worker must refuse.
	listing map[string][]store.Object
	// cut makes the download of a location write half the object, then
	// fail with the error; short makes it stop at half without one.
	cut   map[string]error
	short map[string]bool
	// delay holds every transfer for this long, or until its context ends.
	delay time.Duration
	// stalls makes the next downloads of a location receive nothing
	// until their context ends, that many times.
	stalls map[string]int
	// putErr refuses every Put.
	putErr error
	// putting, when set, is closed as the first Put starts.
	putting chan struct{}
	// versioned lists each object with a version (a hash of its bytes),
	// as S3 and Cloud Storage do, so that the worker may cache it.
	versioned bool

	downloads     []string
	inflight, max int
	puts          map[string][]byte
}

func newMemStore(objs map[string][]byte) *memStore {
	return &memStore{objs: objs, puts: map[string][]byte{}}
}

func (m *memStore) Open(_ context.Context, location string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objs[location]
	if !ok {
		return nil, fmt.Errorf("%s: %w", location, store.ErrNotFound)
	}
	return io.NopCloser(strings.NewReader(string(data))), nil
}

func (m *memStore) List(_ context.Context, location string) ([]store.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.listing[location]; ok {
		return l, nil
	}
	prefix := strings.TrimSuffix(location, "/") + "/"
	var objs []store.Object
	for _, loc := range slices.Sorted(maps.Keys(m.objs)) {
		if rel, ok := strings.CutPrefix(loc, prefix); ok {
			o := store.Object{Path: rel, Size: int64(len(m.objs[loc]))}
			if m.versioned {
				o.Version = fmt.Sprintf("%x", sha256.Sum256(m.objs[loc]))[:16]
			}
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// DownloadVersion implements store.VersionedSource for a versioned
// store: a version other than the object's (as versioned lists it) is
// store.ErrChanged.
func (m *memStore) DownloadVersion(ctx context.Context, location, version string, dst io.WriterAt) (int64, error) {
	m.mu.Lock()
	data, ok := m.objs[location]
	m.mu.Unlock()
	if m.versioned && ok && version != fmt.Sprintf("%x", sha256.Sum256(data))[:16] {
		return 0, fmt.Errorf("%s: %w", location, store.ErrChanged)
	}
	return m.Download(ctx, location, dst)
}

func (m *memStore) Download(ctx context.Context, location string, dst io.WriterAt) (int64, error) {
	m.mu.Lock()
	m.downloads = append(m.downloads, location)
	m.inflight++
	m.max = max(m.max, m.inflight)
	data, ok := m.objs[location]
	cutErr, short := m.cut[location], m.short[location]
	stall := m.stalls[location] > 0
	if stall {
		m.stalls[location]--
	}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inflight--
		m.mu.Unlock()
	}()
	if stall { // a connection that never sends a byte
		<-ctx.Done()
		return 0, context.Cause(ctx)
	}
	if err := m.wait(ctx); err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s: %w", location, store.ErrNotFound)
	}
	if cutErr != nil || short {
		n, _ := dst.WriteAt(data[:len(data)/2], 0)
		return int64(n), cutErr
	}
	n, err := dst.WriteAt(data, 0)
	return int64(n), err
}

func (m *memStore) Put(ctx context.Context, location string, src io.ReaderAt, size int64) error {
	m.mu.Lock()
	if m.putting != nil {
		close(m.putting)
		m.putting = nil
	}
	m.mu.Unlock()
	if err := m.wait(ctx); err != nil {
		return err
	}
	if m.putErr != nil {
		return fmt.Errorf("%s: %w", location, m.putErr)
	}
	data, err := io.ReadAll(io.NewSectionReader(src, 0, size))
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts[location] = data
	return nil
}

func (m *memStore) wait(ctx context.Context) error {
	if m.delay == 0 {
		return ctx.Err()
	}
	select {
	case <-time.After(m.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *memStore) downloaded() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.downloads)
}

// set replaces the object at location.
func (m *memStore) set(location string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[location] = data
}

// del removes the object at location.
func (m *memStore) del(location string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, location)
}
