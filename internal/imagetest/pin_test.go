package imagetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
)

// debianMirror is the mirror the Debian base's sources name: builds here
// read it, since snapshot.debian.org cannot be reached from this machine.
const debianMirror = "http://deb.debian.org"

// mirrorVersions are the versions of chromium-headless-shell that the
// Debian base's mirror offers now, read once.
var mirrorVersions struct {
	once      sync.Once
	versions  []string
	candidate string
	err       error
}

// browsersOnMirror lists the mirror's chromium-headless-shell versions
// and the one apt would install, from apt in the Debian base itself.
func browsersOnMirror(p *podman) ([]string, string, error) {
	mirrorVersions.once.Do(func() {
		out, err := p.run(5*time.Minute, "run", "--rm", "--network", "host", imageRef(generator.HeliosBaseImage),
			"sh", "-c", "apt-get update -qq >/dev/null && apt-cache madison chromium-headless-shell && apt-cache policy chromium-headless-shell")
		if err != nil {
			mirrorVersions.err = err
			return
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Split(line, "|"); len(f) == 3 && strings.TrimSpace(f[0]) == "chromium-headless-shell" {
				mirrorVersions.versions = append(mirrorVersions.versions, strings.TrimSpace(f[1]))
			}
		}
		if m := regexp.MustCompile(`Candidate: (\S+)`).FindStringSubmatch(out); m != nil {
			mirrorVersions.candidate = m[1]
		}
	})
	return mirrorVersions.versions, mirrorVersions.candidate, mirrorVersions.err
}

// recordedInputs are the inputs that repo's answers record.
func recordedInputs(t *testing.T, repo string) generator.Inputs {
	t.Helper()
	a, err := generator.ReadAnswers(repo)
	if err != nil || a == nil {
		t.Fatalf("reading the answers of %s: %v", repo, err)
	}
	return a.Inputs
}

// pinArgs are the build arguments that build a --deps helios image of in
// here, and the browser version the build must install. The snapshot
// archive cannot be reached from this machine, so the build reads the
// base image's mirror (DEBIAN_SNAPSHOT=off), or, with snapshot, a
// loopback stand-in of the archive that fetches from that mirror. Where
// the pinned version has left the mirror, the test says so plainly and
// builds the mirror's version, to prove the rest.
func pinArgs(t *testing.T, p *podman, in generator.Inputs, snapshot string) ([]string, string) {
	t.Helper()
	pin := in.BrowserVersion
	versions, candidate, err := browsersOnMirror(p)
	if err != nil {
		t.Fatalf("listing the mirror's chromium-headless-shell: %v", err)
	}
	if slices.Contains(versions, pin) {
		if snapshot != "" {
			return []string{"--network", "host", "--build-arg", "DEBIAN_SNAPSHOT_URL=" + snapshot}, pin
		}
		return []string{"--build-arg", "DEBIAN_SNAPSHOT=off"}, pin
	}
	msg := fmt.Sprintf("THE PINNED BROWSER HAS LEFT THE MIRROR: chromium-headless-shell %s (generator.DefaultBrowserVersion) "+
		"is no longer on %s, which offers %v. This image is built with %s to prove the rest; move the pin "+
		"(generator.DefaultBrowserVersion and DefaultDebianSnapshot) after a render test.", pin, debianMirror, versions, candidate)
	t.Log(msg)
	report(msg)
	return []string{"--build-arg", "DEBIAN_SNAPSHOT=off", "--build-arg", "CHROMIUM_VERSION=" + candidate}, candidate
}

// report appends a line to HELIOS_IMAGES_REPORT, when it is set.
func report(line string) {
	if path := os.Getenv("HELIOS_IMAGES_REPORT"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
}

// snapshotArchive is a loopback stand-in for snapshot.debian.org: it
// serves /archive/debian/ID/... and /archive/debian-security/ID/... from
// the mirror's current trees, and records the paths asked for, so that a
// build through it shows that the Dockerfile reads the snapshot it
// records, with the archive's keys, from an archive laid out as
// snapshot.debian.org's.
type snapshotArchive struct {
	URL  string
	mu   sync.Mutex
	seen []string
}

func startSnapshotArchive(t *testing.T) *snapshotArchive {
	t.Helper()
	a := &snapshotArchive{}
	mirror, _ := url.Parse(debianMirror)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(mirror)
		r.Out.Host = mirror.Host
	}}
	path := regexp.MustCompile(`^/archive/(debian|debian-security)/([0-9T]+Z)(/.*)$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := path.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		a.mu.Lock()
		a.seen = append(a.seen, r.URL.Path)
		a.mu.Unlock()
		r.URL.Path = "/" + m[1] + m[3]
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/archive"
	return a
}

// fetched reports whether a path that contains each of parts was asked for.
func (a *snapshotArchive) fetched(parts ...string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.seen {
		if !slices.ContainsFunc(parts, func(part string) bool { return !strings.Contains(p, part) }) {
			return true
		}
	}
	return false
}

// smokePassed is what the build prints when its smoke render passed.
var smokePassed = regexp.MustCompile(`helios-scaffold: smoke render of one frame passed in ([0-9]+) s \(chromium-headless-shell (\S+)\)`)

// checkSmoke wants the build's smoke render to have passed with version,
// and logs how long it took.
func checkSmoke(t *testing.T, out, version string) {
	t.Helper()
	m := smokePassed.FindStringSubmatch(out)
	if m == nil || m[2] != version {
		t.Errorf("the build did not say that its smoke render passed with chromium-headless-shell %s:\n%s", version, tail(out, 4<<10))
		return
	}
	t.Logf("the smoke render took %s s", m[1])
	report(fmt.Sprintf("smoke render: %s s", m[1]))
}

// TestPinLeftTheMirror takes the path the image tests take the day the
// pinned browser leaves the mirror: a pin the mirror does not have gives
// the build arguments of the mirror's own version, which must be one it
// offers.
func TestPinLeftTheMirror(t *testing.T) {
	t.Setenv("HELIOS_IMAGES_REPORT", "") // not a finding about the real pin
	p := setup(t)
	in := generator.Defaults(generator.CloudRun)
	in.Project = "my-project"
	in.SetDeps(generator.DepsHelios)
	in.BrowserVersion, in.DebianSnapshot = "1.0-1~gone1", generator.SnapshotOff
	args, version := pinArgs(t, p, in, "http://127.0.0.1:1/archive")
	versions, _, err := browsersOnMirror(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--build-arg", "DEBIAN_SNAPSHOT=off", "--build-arg", "CHROMIUM_VERSION=" + version}
	if !slices.Contains(versions, version) || !slices.Equal(args, want) {
		t.Errorf("pinArgs = %q, %q; want %q with a version of the mirror's %q", args, version, want, versions)
	}
}
