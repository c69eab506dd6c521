package imagetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
)

func TestMain(m *testing.M) {
	code := s3test.Run(m)
	lambdatest.RemoveBuild()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// shared is what every test of the package uses: podman, configured, and
// the base images, made once.
var shared struct {
	once sync.Once
	dir  string
	p    *podman
	err  error
}

// tools are the programs the tests need, with where they come from.
var tools = []struct{ name, from string }{
	{"podman", "Debian's podman"},
	{"runc", "Debian's runc"},
	{"mmdebstrap", "Debian's mmdebstrap"},
	{"ffprobe", "Debian's ffmpeg"},
}

// setup returns podman with the base images made, or skips the test (fails
// it under HELIOS_REQUIRE_IMAGES=1) when a tool is missing.
func setup(t *testing.T) *podman {
	t.Helper()
	if testing.Short() {
		t.Skip("builds container images; skipped with -short")
	}
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool.name); err != nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", tool.name, tool.from))
		}
	}
	if runtime.GOOS != "linux" {
		missing = append(missing, "Linux")
	}
	if len(missing) > 0 {
		msg := "no " + strings.Join(missing, ", no ") + ": .ci/run installs them"
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s, and %s=1 requires the image tests", msg, envRequire)
		}
		t.Skip(msg)
	}
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "imagetest-"); shared.err != nil {
			return
		}
		if shared.p, shared.err = newPodman(shared.dir); shared.err != nil {
			return
		}
		start := time.Now()
		shared.err = bases(shared.p)
		fmt.Printf("imagetest: base images ready in %v\n", time.Since(start).Round(time.Second))
	})
	if shared.err != nil {
		t.Fatalf("setting up podman and the base images: %v", shared.err)
	}
	return shared.p
}

// buildImage builds the project's image, logs its build time, size and
// largest layers, and returns what the build printed.
func buildImage(t *testing.T, p *podman, repo, tag string, extra ...string) string {
	t.Helper()
	out, took, err := p.tryBuild(t, repo, tag, goBuildCache(t), extra...)
	if err != nil {
		t.Fatalf("building %s: %v", tag, err)
	}
	size, layers := p.layers(t, tag)
	t.Logf("%s: built in %v, %.0f MB; layers of 1 MB and more:\n%s", tag, took.Round(time.Second), float64(size)/1e6, layers)
	report(fmt.Sprintf("%s: built in %v, %.0f MB\n%s", tag, took.Round(time.Second), float64(size)/1e6, layers))
	return out
}

// maxRenderImage bounds a --deps helios image with --fonts basic.
const maxRenderImage = 1.1e9

// buildRenderImage builds a --deps helios image with its browser pin as
// this machine can have it (see pinArgs), through archive when it is not
// nil, and checks that the build's smoke render passed with the pinned
// browser, read through the archive.
func buildRenderImage(t *testing.T, p *podman, repo, tag string, archive *snapshotArchive) (pin []string, version string) {
	t.Helper()
	var url string
	if archive != nil {
		url = archive.URL
	}
	in := recordedInputs(t, repo)
	pin, version = pinArgs(t, p, in, url)
	out := buildImage(t, p, repo, tag, pin...)
	checkSmoke(t, out, version)
	if size, _ := p.layers(t, tag); size > maxRenderImage {
		t.Errorf("%s is %.2f GB, over the %.1f GB a --deps helios image with --fonts basic may take", tag, float64(size)/1e9, maxRenderImage/1e9)
	}
	if archive == nil || version != in.BrowserVersion {
		return pin, version
	}
	snap := in.DebianSnapshot
	if !archive.fetched("/archive/debian/"+snap+"/dists/") || !archive.fetched("/archive/debian/"+snap+"/pool/", "chromium-headless-shell_") ||
		!archive.fetched("/archive/debian-security/"+snap+"/dists/") {
		t.Errorf("the build did not read the snapshot %s's indexes and browser from the archive at %s", snap, archive.URL)
	}
	return pin, version
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits up to a minute for a container to listen on addr.
func waitListening(t *testing.T, c *container, addr string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s after a minute; container log:\n%s", addr, tail(c.logs(), 8<<10))
}
