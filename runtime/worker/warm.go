package worker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/warm"
)

// How a chunk ran: [Result.Renderer].
const (
	RendererProcess = "process" // its command, as a process of its own
	RendererWarm    = "warm"    // in the warm renderer, a Node process kept between chunks
)

// warmRenderers are the warm renderers of a worker and its copies, one
// per Helios CLI install, started on first use.
type warmRenderers struct {
	mu sync.Mutex
	m  map[string]*warm.Renderer
}

// close kills every renderer, after the chunk it renders.
func (rs *warmRenderers) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.m {
		r.Close()
	}
}

// warmRenderer is the renderer of the Helios CLI that argv runs, and the
// arguments to give it; nil when the chunk runs as a process: the warm
// renderer is off or not in this image, argv is not a `helios render`
// it takes (warm.Command), or helios is not the npm package's.
func (w *Worker) warmRenderer(argv []string) (*warm.Renderer, []string, string) {
	if !w.cfg.WarmRenderer || w.cfg.WarmRendererScript == "" || w.warm == nil {
		return nil, nil, ""
	}
	if _, err := os.Stat(w.cfg.WarmRendererScript); err != nil {
		return nil, nil, "the warm renderer's script: " + err.Error()
	}
	args, why := warm.Command(argv)
	if why != "" {
		return nil, nil, why
	}
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		return nil, nil, "helios is a path relative to the workspace" // as exec finds it there, not here
	}
	cliDir, ok := heliosPackage(w.lookPath(argv[0]))
	if !ok {
		return nil, nil, "helios is not the @helios-project/cli package's"
	}
	node := w.lookPath("node")
	if !filepath.IsAbs(node) {
		return nil, nil, "node is not on PATH"
	}
	w.warm.mu.Lock()
	defer w.warm.mu.Unlock()
	r := w.warm.m[cliDir]
	if r == nil {
		r = &warm.Renderer{Node: node, Script: w.cfg.WarmRendererScript, CLIDir: cliDir,
			Env: append(os.Environ(), w.env...), MaxRSS: w.cfg.WarmRendererMaxMemory, Log: lockedWriter{w.logMu, w.stderr}}
		w.warm.m[cliDir] = r
	}
	return r, args, ""
}

// lookPath is file's path as a chunk's command finds it; file itself
// when it is not found.
func (w *Worker) lookPath(file string) string {
	p := LookPathEnv(file, w.env)
	if !strings.Contains(p, "/") {
		if found, err := exec.LookPath(p); err == nil {
			p = found
		}
	}
	return p
}

// heliosPackage is the folder of the @helios-project/cli package whose
// bin helios is: node_modules/.bin/helios links to its bin/helios.js.
func heliosPackage(helios string) (string, bool) {
	real, err := filepath.EvalSymlinks(helios)
	if err != nil {
		return "", false
	}
	dir := filepath.Dir(filepath.Dir(real))
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	var pkg struct{ Name string }
	if err != nil || json.Unmarshal(data, &pkg) != nil || pkg.Name != "@helios-project/cli" {
		return "", false
	}
	return dir, true
}

// executeWarm renders the chunk in the warm renderer, as execute runs it
// as a process: the same environment, workspace, output tails and
// passthrough, idle watch and deadline; nil when the chunk is to run as a
// process (see warmRenderer), or the renderer did not take it, or died
// while it rendered it (then the chunk runs as a process, not again in a
// renderer).
func (w *Worker) executeWarm(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk, argv []string, ws *transfer.Placement) *Result {
	r, args, why := w.warmRenderer(argv)
	if r == nil {
		if why != "" && w.cfg.WarmRenderer && w.cfg.WarmRendererScript != "" {
			w.log().DebugContext(ctx, "chunk runs as a process", "chunk", chunk.ID, "why", why)
		}
		return nil
	}
	var ps proc.Spec
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	streams := w.streams(ctx, stop, chunk.ID, ws.Base, &ps)
	mark := envWorkspace + "=" + ws.Work
	start := time.Now()
	code, err := r.Render(ctx, warm.Chunk{Dir: ws.Work, Args: args, Env: w.chunkEnv(spec, chunk, ws), Stdout: ps.Stdout, Stderr: ps.Stderr, Mark: mark})
	streams.end()
	switch {
	case errors.Is(err, warm.ErrUnavailable):
		w.log().DebugContext(ctx, "chunk runs as a process", "chunk", chunk.ID, "why", err.Error())
		return nil
	case errors.Is(err, warm.ErrCrashed) && ctx.Err() == nil:
		w.log().WarnContext(ctx, "warm renderer failed; the chunk runs as a process", "chunk", chunk.ID, "error", err.Error())
		return nil
	}
	res := streams.result(start, RendererWarm)
	res.ExitCode = code
	if ctx.Err() != nil {
		res.ExitCode, res.Err = -1, fault.StopReason(ctx)
	}
	return res
}
