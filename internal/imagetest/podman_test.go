package imagetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envRequire names the variable that, set to 1 (as .ci/run sets it), turns
// a missing tool from a skip into a failure.
const envRequire = "HELIOS_REQUIRE_IMAGES"

// buildTimeout bounds one image build: a fresh machine downloads Chromium
// and the npm packages; a deadline here guards against a hang.
const buildTimeout = 20 * time.Minute

// podman runs podman with a configuration of the tests' own: runc (crun
// refuses this machine's hybrid cgroups), rlimits within the machine's
// hard limits, and short names resolved to Docker Hub, as Docker does.
type podman struct {
	env []string
}

// newPodman writes the configuration into dir.
func newPodman(dir string) (*podman, error) {
	conf := filepath.Join(dir, "containers.conf")
	registries := filepath.Join(dir, "registries.conf")
	files := map[string]string{
		conf: "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n" +
			"[engine]\nruntime = \"runc\"\n",
		registries: "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"permissive\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	return &podman{env: append(os.Environ(), "CONTAINERS_CONF="+conf, "CONTAINERS_REGISTRIES_CONF="+registries)}, nil
}

// run runs podman with args within timeout and returns its standard
// output; the error holds its standard error.
func (p *podman) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = p.env
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, tail(errb.String()+out.String(), 8<<10))
	}
	return out.String(), nil
}

// must is run for tests: it fails t on error.
func (p *podman) must(t testing.TB, timeout time.Duration, args ...string) string {
	t.Helper()
	out, err := p.run(timeout, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// imageLabel is the value of an image's label, "" when the image or the
// label is missing.
func (p *podman) imageLabel(image, label string) string {
	out, err := p.run(time.Minute, "image", "inspect", "--format", "{{index .Labels \""+label+"\"}}", image)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(out)
	if v == "<no value>" {
		return ""
	}
	return v
}

// build builds the image tag from the Dockerfile in dir, never pulling,
// with what the tests' Go image needs mounted (see goImage), and reports
// how long it took.
func (p *podman) build(t testing.TB, dir, tag string, extra ...string) time.Duration {
	t.Helper()
	return p.buildWithCache(t, dir, tag, goBuildCache(t), extra...)
}

// buildWithCache is build with goCache as the Go stage's build cache.
func (p *podman) buildWithCache(t testing.TB, dir, tag, goCache string, extra ...string) time.Duration {
	t.Helper()
	_, took, err := p.tryBuild(t, dir, tag, goCache, extra...)
	if err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
	return took
}

// tryBuild builds as buildWithCache does and returns what the build
// printed and its error instead of failing t; the image, if made, is
// removed when the test ends.
func (p *podman) tryBuild(t testing.TB, dir, tag, goCache string, extra ...string) (string, time.Duration, error) {
	t.Helper()
	args := []string{"build", "--pull=never", "--layers", "-t", tag,
		"-v", goModDownloadCache(t) + ":/goproxy:ro",
		"-v", goCache + ":/root/.cache/go-build"}
	args = append(append(args, extra...), dir)
	start := time.Now()
	out, err := p.run(buildTimeout, args...)
	t.Cleanup(func() { _, _ = p.run(time.Minute, "rmi", "-f", tag) })
	return out, time.Since(start), err
}

// layers describes an image: its size and the size of each layer, largest
// first, with the instruction that made it.
func (p *podman) layers(t testing.TB, image string) (int64, string) {
	t.Helper()
	size, err := strconv.ParseInt(strings.TrimSpace(p.must(t, time.Minute, "image", "inspect", "--format", "{{.Size}}", image)), 10, 64)
	if err != nil {
		t.Fatalf("size of %s: %v", image, err)
	}
	hist := p.must(t, time.Minute, "history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", image)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(hist), "\n") {
		n, by, _ := strings.Cut(line, "\t")
		bytes := parseSize(n)
		if bytes < 1e6 {
			continue
		}
		by = strings.TrimPrefix(by, "/bin/sh -c ")
		if len(by) > 100 {
			by = by[:100] + "…"
		}
		fmt.Fprintf(&b, "  %7.1f MB  %s\n", bytes/1e6, by)
	}
	return size, b.String()
}

// container is a running container, removed when the test ends; its log
// is shown if the test failed.
type container struct {
	p    *podman
	name string
}

// start runs image detached with args (podman run options, then the image
// and its arguments last) and returns the container.
func (p *podman) start(t testing.TB, args ...string) *container {
	t.Helper()
	name := fmt.Sprintf("helios-imagetest-%d-%d", os.Getpid(), time.Now().UnixNano())
	p.must(t, time.Minute, append([]string{"run", "-d", "--name", name}, args...)...)
	c := &container{p: p, name: name}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.p.run(time.Minute, "logs", c.name)
			t.Logf("container %s log:\n%s", c.name, tail(out, 16<<10))
		}
		_, _ = c.p.run(time.Minute, "rm", "-f", "-t", "0", c.name)
	})
	return c
}

// logs returns what the container wrote, both streams.
func (c *container) logs() string {
	cmd := exec.Command("podman", "logs", c.name)
	cmd.Env = c.p.env
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// stop sends SIGTERM and returns the exit code, within 20 s.
func (c *container) stop(t testing.TB) int {
	t.Helper()
	c.p.must(t, time.Minute, "stop", "-t", "20", c.name)
	code, err := strconv.Atoi(strings.TrimSpace(c.p.must(t, time.Minute, "inspect", "--format", "{{.State.ExitCode}}", c.name)))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// parseSize reads podman's human sizes ("6.14 kB", "245 MB"); -1 when it
// cannot.
func parseSize(s string) float64 {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.ParseFloat(num, 64)
	scale := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
	if err != nil || scale == 0 {
		return -1
	}
	return n * scale
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
