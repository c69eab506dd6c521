package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
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
	logMu   *sync.Mutex // serialises passthrough lines across chunks
	cfgErr  error       // Config.Validate's complaint: every Run fails with it
	cache   *lazyCache  // shared by the copies that With makes
	stale   *sync.Once  // removes dead workers' workspaces, before the first chunk
	allowed []prefix    // Config.AllowedJobPaths, parsed
	env     []string    // added to every chunk's environment (WithEnv)
}

// lazyCache opens the asset cache when the first assets are fetched, so
// that a worker that never fetches any pays nothing for it.
type lazyCache struct {
	once sync.Once
	c    atomic.Pointer[assetCache]
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
	}
	for _, o := range opts {
		o(w)
	}
	w.allowed = parsePrefixes(cfg.AllowedJobPaths)
	if err := cfg.Validate(); err != nil {
		w.cfgErr = withKind(KindConfig, fmt.Errorf("invalid worker configuration: %w", err))
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

// Errors that a [Result] may hold.
var (
	// ErrTimeout: the chunk ran out of time and was killed.
	ErrTimeout = errors.New("chunk timed out")
	// ErrCanceled: the invocation was cancelled (client gone, shutdown).
	ErrCanceled = errors.New("chunk cancelled")
	// ErrIdle: the chunk wrote nothing to stdout or stderr and grew no
	// file in its workspace for Config.ChunkIdleTimeout, and was killed.
	// The error that wraps it reads "chunk 3: no output for 300 s; killed
	// (HELIOS_CHUNK_IDLE_TIMEOUT)".
	ErrIdle = errors.New("no output")
)

// Result is the outcome of one invocation.
type Result struct {
	// Started reports whether the chunk's command ran. When false, Err
	// says why it could not (spec unreadable, chunk not found, command
	// not found) and the other fields are empty.
	Started bool
	// ExitCode is the command's exit code; 128+n when signal n killed it,
	// and -1 when the worker killed it for a timeout or cancellation.
	ExitCode int
	// Signal names the signal that killed the command, if one did.
	Signal string
	// Stdout and Stderr hold the tail of each stream, at most
	// Config.OutputLimit bytes, starting at a character boundary.
	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated report a cut front.
	StdoutTruncated, StderrTruncated bool
	// StdoutBytes and StderrBytes count everything printed.
	StdoutBytes, StderrBytes int64
	// Duration is the command's wall time.
	Duration time.Duration
	// OutputURL is where the chunk's outputFile was uploaded, OutputBytes
	// its size and OutputSHA256 the SHA-256 of the bytes that were sent,
	// in lowercase hex; all are empty when nothing was uploaded.
	OutputURL    string
	OutputBytes  int64
	OutputSHA256 string
	// Err is nil when the command ran to its own exit; otherwise it wraps
	// ErrTimeout, ErrIdle, ErrCanceled or the reason the command could
	// not run.
	// [Result.Kind] classifies it.
	Err error
}

// OK reports whether the command ran and exited 0.
func (r *Result) OK() bool { return r.Started && r.Err == nil && r.ExitCode == 0 }

// Message is a one-line reason for any outcome but success, "" for success.
func (r *Result) Message() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != "":
		return "chunk command killed by signal " + r.Signal
	case r.ExitCode != 0:
		return "chunk command exited with code " + strconv.Itoa(r.ExitCode)
	}
	return ""
}

// Run runs the chunk that req names and, when an output location is set,
// uploads its outputFile after it exits 0. It never panics on bad input:
// every failure is reported in the Result. When ctx is done before the command
// ends, the command's process group is killed and Err wraps ErrCanceled,
// or ErrTimeout when ctx's cause is (or wraps) ErrTimeout; a command that
// stays idle for Config.ChunkIdleTimeout is killed alike, and Err wraps
// ErrIdle.
func (w *Worker) Run(ctx context.Context, req jobspec.Request) *Result {
	res, job := w.run(ctx, req)
	w.logResult(ctx, res, "jobPath", req.JobPath, "job", job, "chunk", req.ChunkIndex)
	return res
}

// run is Run without its log line; job is the job's id, "" when the spec
// was not read.
func (w *Worker) run(ctx context.Context, req jobspec.Request) (*Result, string) {
	if w.cfgErr != nil {
		return &Result{Err: w.cfgErr}, ""
	}
	if req.JobPath == "" {
		return &Result{Err: jobspec.ErrPayloadFields}, ""
	}
	loc := store.ParseLocation(req.JobPath) // read once: the allowlist, the source and the job's name take it
	if err := w.checkJobPath(loc); err != nil {
		return &Result{Err: err}, ""
	}
	spec, err := w.loadSpec(ctx, loc)
	if err != nil {
		return &Result{Err: whyStopped(ctx, err)}, ""
	}
	chunk, err := spec.Chunk(req.ChunkIndex)
	if err != nil {
		return &Result{Err: err}, spec.ID
	}
	return w.RunChunk(ctx, spec, chunk), spec.ID
}

// logResult writes the one line at info level that an invocation gets:
// "chunk finished", with what the command did and where its output went,
// or, at warning level, "chunk not run" and why.
func (w *Worker) logResult(ctx context.Context, res *Result, attrs ...any) {
	if !res.Started {
		w.log().WarnContext(ctx, "chunk not run", append(attrs, "error", res.Message(), "errorKind", string(res.Kind()))...)
		return
	}
	attrs = append(attrs, "exitCode", res.ExitCode, "durationMs", res.Duration.Milliseconds(),
		"stdoutBytes", res.StdoutBytes, "stderrBytes", res.StderrBytes, "error", res.Message())
	if res.OutputURL != "" {
		attrs = append(attrs, "outputUrl", res.OutputURL, "outputBytes", res.OutputBytes, "outputSha256", res.OutputSHA256)
	}
	w.log().InfoContext(ctx, "chunk finished", attrs...)
}
// RunChunk runs one chunk of a spec loaded with [Worker.LoadSpec], as
// [Worker.Run] does once it has found the chunk: a Cloud Run job's task
// runs several chunks of one spec this way. Unlike Run, it logs nothing
// at info level: the caller reports the outcome.
func (w *Worker) RunChunk(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk) *Result {
	if w.cfgErr != nil {
		return &Result{Err: w.cfgErr}
	}
	argv, err := jobspec.SplitCommand(chunk.Command)
	if err != nil {
		return &Result{Err: fmt.Errorf("splitting command of chunk %d: %w", chunk.ID, err)}
	}
	if err := checkNUL(spec, chunk); err != nil {
		return &Result{Err: withKind(KindSpec, err)}
	}
	out, err := w.outputFor(spec, chunk)
	if err != nil {
		return &Result{Err: withKind(KindSpec, err)}
	}
	w.stale.Do(func() {
		if removed := workspace.RemoveStale(w.cfg.WorkspaceRoot); len(removed) > 0 {
			w.log().WarnContext(ctx, "removed workspaces left by a worker that was killed", "root", w.cfg.WorkspaceRoot, "workspaces", removed)
		}
	})
	dir, err := workspace.New(w.cfg.WorkspaceRoot, spec.ID, chunk.ID)
	ws := &placement{Workspace: dir}
	if err != nil {
		return &Result{Err: withKind(KindWorker, err)}
	}
	defer func() {
		if err := ws.Remove(); err != nil {
			w.log().ErrorContext(ctx, "workspace left behind", "error", err)
		}
		if c := w.cache.c.Load(); c != nil { // after the removal: the cache counts links
			c.release(ws)
		}
	}()
	res := w.runInWorkspace(ctx, spec, chunk, argv, ws)
	if out != nil && res.OK() {
		w.deliver(ctx, res, out, ws.Work)
	}
	return res
}

// runInWorkspace fetches the assets into dir and runs the command there,
// both within Config.ChunkTimeout.
func (w *Worker) runInWorkspace(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, argv []string, ws *placement) *Result {
	if w.cfg.ChunkTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, w.cfg.ChunkTimeout,
			fmt.Errorf("%w after %v (%s)", ErrTimeout, w.cfg.ChunkTimeout, EnvChunkTimeout))
		defer cancel()
	}
	if spec.AssetsURL != "" {
		if err := w.fetchAssets(ctx, spec.AssetsURL, ws); err != nil {
			return &Result{Err: err}
		}
	}
	return w.execute(ctx, spec, chunk, argv, ws)
}

// checkNUL refuses, before anything runs, a job id or outputFile that
// holds a NUL byte: the chunk's environment carries both, and no
// environment variable (nor file name) can hold one.
func checkNUL(spec *jobspec.Spec, chunk *jobspec.Chunk) error {
	switch {
	case strings.ContainsRune(spec.ID, 0):
		return fmt.Errorf("job id %q holds a NUL byte, which no environment variable can", spec.ID)
	case strings.ContainsRune(chunk.OutputFile, 0):
		return fmt.Errorf("outputFile %q of chunk %d holds a NUL byte, which no file name can", chunk.OutputFile, chunk.ID)
	}
	return nil
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

// whyStopped wraps err, which happened before the command ran, with the
// reason ctx ended, if it did, so that callers can tell a timeout or a
// cancellation from a bad spec.
func whyStopped(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w: %w", stopReason(ctx), err)
}

// assetCache returns the worker's asset cache, opening it on first use;
// nil when it is off or cannot be opened (the worker then downloads every
// file, and says why once).
func (w *Worker) assetCache(ctx context.Context) *assetCache {
	w.cache.once.Do(func() {
		if w.cfg.AssetsCacheBytes == 0 {
			return
		}
		dir := w.cfg.AssetsCacheDir
		if dir == "" {
			dir = filepath.Join(w.cfg.WorkspaceRoot, cacheDirName)
		}
		c, err := openCache(dir, w.cfg.AssetsCacheBytes)
		if err != nil {
			w.log().WarnContext(ctx, "asset cache off", "error", err)
			return
		}
		placement := "hard links"
		if c.watch == nil {
			placement = "copies"
		}
		w.log().InfoContext(ctx, "asset cache", "dir", c.dir, "limitBytes", c.limit, "placement", placement)
		w.cache.c.Store(c)
	})
	return w.cache.c.Load()
}

// Close removes the files of the worker's asset cache. Chunks still
// running keep their own copies; chunks run after Close download every
// file. A worker that never fetched assets has nothing to remove. A
// process that ends without Close leaves its cache to the next worker
// process with the same cache folder, which removes it.
func (w *Worker) Close() error {
	w.cache.once.Do(func() {}) // a cache being opened is opened first
	c := w.cache.c.Load()
	if c == nil {
		return nil
	}
	return c.close()
}

// readAll reads at most limit bytes from r, failing with store.ErrTooLarge past it.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, plusOne(limit)))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", store.ErrTooLarge, limit)
	}
	return data, nil
}

// plusOne is n+1, or n when that would overflow: reading one byte past a
// limit tells whether the document is larger.
func plusOne(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}
