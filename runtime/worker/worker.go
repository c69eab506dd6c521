package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/warm"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/workspace"
)

// Worker runs chunks. It is safe for concurrent use: every call to
// [Worker.Run] gets its own workspace and process group.
type Worker struct {
	cfg     Config
	sources map[string]store.Source
	logger  *slog.Logger
	stdout  io.Writer // passthrough targets: the platform's logs
	stderr  io.Writer
	logMu   *sync.Mutex     // serialises passthrough lines across chunks
	cfgErr  error           // Config.Validate's complaint: every Run fails with it
	cache   *lazyCache      // shared by the copies that With makes
	stale   *sync.Once      // removes dead workers' workspaces, before the first chunk
	pool    *workspace.Pool // empty workspaces of ended chunks, shared by the copies that With makes
	allowed []prefix        // Config.AllowedJobPaths, parsed
	env     []string        // added to every chunk's environment (WithEnv)
	warm    *warmRenderers  // shared by the copies that With makes
}

// lazyCache opens the asset cache when the first assets are fetched, so
// that a worker that never fetches any pays nothing for it.
type lazyCache struct {
	once sync.Once
	c    atomic.Pointer[transfer.Cache]
}

// An Option changes a [Worker] made by [New].
type Option func(*Worker)

// WithSource makes the worker load locations of the given scheme ("s3",
// "gs", or a built-in one to replace it) through src.
func WithSource(scheme string, src store.Source) Option {
	return func(w *Worker) { w.sources[scheme] = src }
}

// WithDefaultSource sets src for scheme unless an earlier option set a
// source for it. The generated main.go wires the platform's bucket store
// (s3://, gs://) this way, so that a store set in newWorker wins.
func WithDefaultSource(scheme string, src store.Source) Option {
	return func(w *Worker) {
		if _, ok := w.sources[scheme]; !ok {
			w.sources[scheme] = src
		}
	}
}

// WithLogger sets the logger for the worker's own messages; the default is
// slog.Default() at the time of each message.
func WithLogger(l *slog.Logger) Option {
	return func(w *Worker) { w.logger = l }
}

// WithEnv adds entries ("NAME=VALUE") to every chunk's environment, over
// the worker's own. A PATH among them is also where a command's
// executable is looked up. helios-scaffold run marks its chunks this way,
// and puts a project's node_modules/.bin on their PATH.
func WithEnv(entries ...string) Option {
	return func(w *Worker) { w.env = append(w.env, entries...) }
}

// WithPassthrough sets where chunk output is copied live when
// Config.Passthrough is on; the default is os.Stdout and os.Stderr.
func WithPassthrough(stdout, stderr io.Writer) Option {
	return func(w *Worker) { w.stdout, w.stderr = stdout, stderr }
}

// New returns a worker with the given configuration. Local paths and
// file://, http:// and https:// URLs are supported out of the box.
func New(cfg Config, opts ...Option) *Worker {
	w := &Worker{
		cfg: cfg,
		sources: map[string]store.Source{
			"":      store.FileSource{},
			"file":  store.FileSource{},
			"http":  store.HTTPSource{},
			"https": store.HTTPSource{},
		},
		stdout: os.Stdout,
		stderr: os.Stderr,
		logMu:  new(sync.Mutex),
		cache:  new(lazyCache),
		stale:  new(sync.Once),
		pool:   new(workspace.Pool),
		warm:   &warmRenderers{m: map[string]*warm.Renderer{}},
	}
	for _, o := range opts {
		o(w)
	}
	w.allowed = parsePrefixes(cfg.AllowedJobPaths)
	if err := cfg.Validate(); err != nil {
		w.cfgErr = fault.With(KindConfig, fmt.Errorf("invalid worker configuration: %w", err))
	}
	return w
}

// Config returns the worker's configuration.
func (w *Worker) Config() Config { return w.cfg }

func (w *Worker) log() *slog.Logger {
	if w.logger != nil {
		return w.logger
	}
	return slog.Default()
}

// With returns a copy of w with opts applied; the platform packages use it
// to point logs and passthrough where their platform wants them.
func (w *Worker) With(opts ...Option) *Worker {
	c := *w
	c.sources = make(map[string]store.Source, len(w.sources))
	for k, v := range w.sources {
		c.sources[k] = v
	}
	for _, o := range opts {
		o(&c)
	}
	return &c
}

// transfer.Cache returns the worker's asset cache, opening it on first use;
// nil when it is off or cannot be opened (the worker then downloads every
// file, and says why once).
func (w *Worker) assetCache(ctx context.Context) *transfer.Cache {
	w.cache.once.Do(func() {
		if w.cfg.AssetsCacheBytes == 0 {
			return
		}
		dir := w.cfg.AssetsCacheDir
		if dir == "" {
			dir = filepath.Join(w.cfg.WorkspaceRoot, transfer.CacheDirName)
		}
		c, err := transfer.OpenCache(dir, w.cfg.AssetsCacheBytes)
		if err != nil {
			w.log().WarnContext(ctx, "asset cache off", "error", err)
			return
		}
		placement := "hard links"
		if !c.Links() {
			placement = "copies"
		}
		w.log().InfoContext(ctx, "asset cache", "dir", c.Dir(), "limitBytes", c.Limit(), "placement", placement)
		w.cache.c.Store(c)
	})
	return w.cache.c.Load()
}

// Close kills the warm renderers, once their chunks end, and removes the
// files of the worker's asset cache. Chunks still running keep their own
// copies; chunks run after Close download every
// file. A worker that never fetched assets has nothing to remove. A
// process that ends without Close leaves its cache to the next worker
// process with the same cache folder, which removes it.
func (w *Worker) Close() error {
	if w.warm != nil {
		w.warm.close()
	}
	w.cache.once.Do(func() {}) // a cache being opened is opened first
	c := w.cache.c.Load()
	if c == nil {
		return nil
	}
	return c.Close()
}
