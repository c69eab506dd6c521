package warm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
)

// ErrUnavailable is a chunk that the warm renderer did not take: it is
// busy with another, off, or cannot start. The chunk runs as a process.
var ErrUnavailable = errors.New("warm renderer unavailable")

// ErrCrashed is a renderer that died, or broke its protocol, during a
// chunk: the chunk did not end as the CLI would have ended it.
var ErrCrashed = errors.New("warm renderer crashed")

// Tested are the Helios CLI and renderer versions that the warm renderer
// was tested with: with another, chunks run as processes.
var Tested = map[string][]string{
	"@helios-project/cli":      {"0.45.2"},
	"@helios-project/renderer": {"1.78.3"},
}

// readyTimeout bounds the renderer's start: Node, and its import of the
// Helios renderer; requestTimeout the sending of a chunk to it.
const (
	readyTimeout   = time.Minute
	requestTimeout = 30 * time.Second
)

// A Renderer is the resident warm renderer of one Helios CLI install,
// started on first use. One chunk renders at a time.
type Renderer struct {
	// Node is node's path, Script the warm renderer's, CLIDir the Helios
	// CLI's package folder (node_modules/@helios-project/cli).
	Node, Script, CLIDir string
	// Env is the renderer's own environment; a chunk's replaces it while
	// the chunk renders.
	Env []string
	// MaxRSS kills the renderer after a chunk that leaves it larger
	// (bytes); 0 for no bound.
	MaxRSS int64
	// Log receives what the renderer prints outside a chunk, and why it
	// was killed.
	Log io.Writer

	mu       sync.Mutex // held by the chunk being rendered
	p        *process
	disabled string    // why the renderer is not used (an untested version)
	failed   time.Time // when its last start failed
}

// Chunk is a chunk for the renderer: its workspace, the arguments after
// helios (Command), its whole environment, where its output goes, and
// the mark that every process it starts carries.
type Chunk struct {
	Dir            string
	Args           []string
	Env            []string
	Stdout, Stderr io.Writer
	Mark           string
}

// Render renders c and returns its exit code, as the Helios CLI's would
// be. ErrUnavailable says it did not take c; ErrCrashed that it took c
// and died. When ctx ends first, the renderer is killed with all that the
// chunk started, and the error is ctx's cause. Whatever the chunk
// started is gone when Render returns.
func (r *Renderer) Render(ctx context.Context, c Chunk) (int, error) {
	if !r.mu.TryLock() {
		return 0, fmt.Errorf("%w: busy with another chunk", ErrUnavailable)
	}
	defer r.mu.Unlock()
	if r.disabled != "" {
		return 0, fmt.Errorf("%w: %s", ErrUnavailable, r.disabled)
	}
	if r.p != nil && r.p.exited() {
		r.kill("it exited between chunks")
	}
	if r.p == nil {
		if wait := time.Until(r.failed.Add(startBackoff)); wait > 0 {
			return 0, fmt.Errorf("%w: its last start failed; the next try is in %v", ErrUnavailable, wait.Round(time.Second))
		}
		p, err := r.start(ctx)
		if err != nil {
			r.failed = time.Now()
			return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		r.p = p
	}
	p := r.p
	release := proc.Hold(p.pid)
	code, err := p.render(ctx, c)
	switch {
	case err != nil:
		r.kill(err.Error()) // first, so that it starts nothing more
	case code != 0:
		// The CLI exits after a failure: what the failed render left
		// running (timers, a browser closing) must not reach the next.
		r.kill("")
	}
	proc.Sweep(c.Mark) // the browsers and encoders it started, wherever they went
	if r.p != nil {
		p.killChildren()
	}
	proc.Reap(p.pid)
	release()
	if rss := procfs.RSS(p.pid); r.p != nil && r.MaxRSS > 0 && rss > r.MaxRSS {
		r.kill(fmt.Sprintf("it uses %d MiB after the chunk, over its bound of %d MiB", rss>>20, r.MaxRSS>>20))
	}
	return code, err
}

// startBackoff is how long after a failed start the renderer is not
// tried again: its chunks run as processes meanwhile.
const startBackoff = time.Minute

// Close kills the renderer, if it runs.
func (r *Renderer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kill("")
}

// kill ends the running renderer, saying why unless why is "".
func (r *Renderer) kill(why string) {
	if r.p == nil {
		return
	}
	if why != "" {
		fmt.Fprintf(r.Log, "warm renderer (pid %d) killed: %s\n", r.p.pid, why)
	}
	r.p.kill()
	r.p = nil
}

// start starts the renderer and waits until it has loaded the Helios
// renderer, whose version (and the CLI's) must be tested ones.
func (r *Renderer) start(ctx context.Context) (*process, error) {
	if v, err := packageVersion(r.CLIDir); err != nil || !tested("@helios-project/cli", v) {
		r.disabled = untested("@helios-project/cli", v, err)
		return nil, errors.New(r.disabled)
	}
	p, err := startProcess(r.Node, r.Script, r.CLIDir, r.Env, r.Log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	select {
	case ready := <-p.ready:
		if !tested("@helios-project/renderer", ready.Renderer) {
			r.disabled = untested("@helios-project/renderer", ready.Renderer, nil)
			p.kill()
			return nil, errors.New(r.disabled)
		}
		return p, nil
	case <-p.dead:
		p.kill()
		return nil, fmt.Errorf("starting the warm renderer: it exited before it was ready (%v)", p.waitErr)
	case <-ctx.Done():
		p.kill()
		return nil, fmt.Errorf("starting the warm renderer: not ready: %w", context.Cause(ctx))
	}
}

func tested(name, version string) bool {
	for _, v := range Tested[name] {
		if v == version {
			return true
		}
	}
	return false
}

func untested(name, version string, err error) string {
	if err != nil {
		return fmt.Sprintf("the version of %s cannot be read: %v", name, err)
	}
	return fmt.Sprintf("%s %s is not a version the warm renderer was tested with (%v)", name, version, Tested[name])
}

// packageVersion is the version in dir's package.json.
func packageVersion(dir string) (string, error) {
	data, err := os.ReadFile(dir + "/package.json")
	if err != nil {
		return "", err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("reading %s/package.json: %w", dir, err)
	}
	return pkg.Version, nil
}

// message is a line the renderer writes on fd 4.
type message struct {
	Ready    bool   `json:"ready"`
	CLI      string `json:"cli"`
	Renderer string `json:"renderer"`
	Stream   string `json:"stream"`
	Data     []byte `json:"data"` // base64 in JSON
	Exit     *int   `json:"exit"`
}

// request is a line the worker writes on fd 3.
type request struct {
	Cwd  string            `json:"cwd"`
	Args []string          `json:"args"`
	Env  map[string]string `json:"env"`
}

// process is a running renderer.
type process struct {
	cmd     *exec.Cmd
	pid     int
	req     *os.File // fd 3's other end
	ready   chan message
	exits   chan int
	dead    chan struct{} // closed once it exited and its messages are read
	waitErr error

	mu             sync.Mutex // guards the writers
	stdout, stderr io.Writer  // the chunk's, or the log between chunks
	log            io.Writer
}

func startProcess(node, script, cliDir string, env []string, log io.Writer) (*process, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	msgR, msgW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	cmd := exec.Command(node, script, cliDir)
	cmd.Env = env
	cmd.Dir = os.TempDir()
	cmd.Stdout, cmd.Stderr = log, log // Node's own complaints, before its writes are messages
	cmd.ExtraFiles = []*os.File{reqR, msgW}
	p := &process{cmd: cmd, req: reqW, ready: make(chan message, 1), exits: make(chan int, 1), dead: make(chan struct{}),
		stdout: log, stderr: log, log: log}
	err = proc.StartResident(cmd)
	reqR.Close()
	msgW.Close()
	if err != nil {
		reqW.Close()
		msgR.Close()
		return nil, fmt.Errorf("starting the warm renderer: %w", err)
	}
	p.pid = cmd.Process.Pid
	go p.read(msgR)
	return p, nil
}

// read reads the renderer's messages until it exits.
func (p *process) read(r *os.File) {
	defer close(p.dead)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	broken := false
	for sc.Scan() {
		var m message
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			fmt.Fprintf(p.log, "warm renderer: not a message: %.200q\n", sc.Bytes())
			broken = true
			break
		}
		switch {
		case m.Ready:
			p.ready <- m
		case m.Exit != nil:
			p.exits <- *m.Exit
		case m.Stream != "":
			p.mu.Lock()
			w := p.stdout
			if m.Stream == "stderr" {
				w = p.stderr
			}
			w.Write(m.Data)
			p.mu.Unlock()
		}
	}
	if err := sc.Err(); err != nil || broken {
		// A line too long, or not a message: nobody reads what it writes
		// now, so it must not live on, blocked on the pipe.
		proc.KillGroup(p.pid)
	}
	p.waitErr = p.cmd.Wait()
}

// render sends c and waits for its end, the renderer's death, or ctx.
func (p *process) render(ctx context.Context, c Chunk) (int, error) {
	env := map[string]string{}
	for _, kv := range c.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	line, err := json.Marshal(request{Cwd: c.Dir, Args: c.Args, Env: env})
	if err != nil {
		return 0, err
	}
	p.setWriters(c.Stdout, c.Stderr)
	defer p.setWriters(p.log, p.log)
	p.req.SetWriteDeadline(time.Now().Add(requestTimeout))
	if _, err := p.req.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("%w: sending the chunk: %w", ErrCrashed, err)
	}
	select {
	case code := <-p.exits:
		return code, nil
	case <-p.dead:
		return 0, fmt.Errorf("%w: it exited during the chunk (%v)", ErrCrashed, p.waitErr)
	case <-ctx.Done():
		return -1, context.Cause(ctx)
	}
}

// exited reports whether the renderer has exited.
func (p *process) exited() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// setWriters sets where the renderer's output goes: the chunk's writers,
// or the log between chunks.
func (p *process) setWriters(stdout, stderr io.Writer) {
	p.mu.Lock()
	p.stdout, p.stderr = stdout, stderr
	p.mu.Unlock()
}

// killChildren kills what the renderer started and left running: between
// chunks it has no child of its own.
func (p *process) killChildren() {
	kids, _ := procfs.Children(p.pid)
	for _, pid := range kids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// kill ends the renderer and its group, and waits for it.
func (p *process) kill() {
	p.killChildren()
	proc.KillGroup(p.pid)
	p.req.Close()
	select {
	case <-p.dead:
	case <-time.After(5 * time.Second):
	}
}
