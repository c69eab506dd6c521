package imagetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
)

// baseLabel is the label that records what a base image was made from, so
// that a later run on the same machine reuses it (and, with it, the layers
// built on it) while nothing it depends on changed.
const baseLabel = "io.helios-scaffold.imagetest.recipe"

// machineCABundle is this machine's CA bundle. The machine reaches the
// package registries through a TLS-intercepting proxy, so the base images
// the tests make trust what the machine trusts. Test setup only: nothing
// helios-scaffold writes carries it.
const machineCABundle = "/etc/ssl/certs/ca-certificates.crt"

// bases makes the base images the generated Dockerfiles name, for this
// machine's platform, unless images made from the same recipe are there:
// the Debian base, and the Go image from it with the machine's Go.
func bases(p *podman) error {
	debian, key, err := debianBase(p, runtime.GOARCH)
	if err != nil {
		return err
	}
	goroot := goEnv("GOROOT")
	if goroot == "" {
		return errors.New("go env GOROOT is empty")
	}
	return goBase(p, debian, imageRef(generator.GoImage), goroot, recipeKey("go-v1", key, runtime.Version(), goroot))
}

// debianBase makes the Debian base for arch unless it is there, and
// returns its name and recipe key. For this machine's platform it has the
// name the Dockerfiles use; for another, that name with -ARCH appended.
func debianBase(p *podman, arch string) (string, string, error) {
	ca, err := os.ReadFile(machineCABundle)
	if err != nil {
		return "", "", fmt.Errorf("reading the machine's CA bundle: %w", err)
	}
	image := imageRef(generator.HeliosBaseImage)
	if arch != runtime.GOARCH {
		image += "-" + arch
	}
	key := recipeKey("debian-v1", arch, string(ca), strings.Join(slimOptions, "\n"))
	if p.imageLabel(image, baseLabel) == key {
		return image, key, nil
	}
	return image, key, makeDebian(p, image, arch, key)
}

// goBase makes the Go image from the Debian base and the Go tree at
// goroot, unless it is there.
func goBase(p *podman, debian, image, goroot, key string) error {
	if p.imageLabel(image, baseLabel) == key {
		return nil
	}
	return makeGo(p, debian, image, goroot, key)
}

// goArm64 makes an arm64 Go image, of this machine's Go version from the
// Go toolchain module for linux/arm64, for timing a Go stage that runs
// under emulation.
func goArm64(p *podman) (string, error) {
	debian, key, err := debianBase(p, "arm64")
	if err != nil {
		return "", err
	}
	mod := "golang.org/toolchain@v0.0.1-" + runtime.Version() + ".linux-arm64"
	out, err := exec.Command("go", "mod", "download", "-json", mod).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var dl struct{ Dir string }
	if err := json.Unmarshal(out, &dl); err != nil || dl.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no folder in %q", mod, out)
	}
	// The module cache holds the toolchain read-only and without execute
	// bits: copy it with them.
	goroot, err := os.MkdirTemp("", "imagetest-goroot-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(goroot)
	if err := os.CopyFS(goroot, os.DirFS(dl.Dir)); err != nil {
		return "", fmt.Errorf("copying %s: %w", dl.Dir, err)
	}
	tools, _ := filepath.Glob(filepath.Join(goroot, "pkg", "tool", "*", "*"))
	bins, _ := filepath.Glob(filepath.Join(goroot, "bin", "*"))
	for _, f := range append(bins, tools...) {
		if err := os.Chmod(f, 0o755); err != nil {
			return "", err
		}
	}
	image := "localhost/imagetest-golang-arm64:" + runtime.Version()
	return image, goBase(p, debian, image, goroot, recipeKey("go-v2", key, mod))
}

// lambdaBaseArm64 makes the arm64 stand-in for the Lambda base,
// generator.AWSBaseImage (Amazon Linux 2023, which cannot be pulled here),
// unless it is there, and returns its name: the base's with -arm64
// appended, passed as BASE_IMAGE, as debianBase names a base for another
// platform (podman 4 keeps one platform under a name).
//
// It holds what the default image takes from the base: a root file system
// with a POSIX sh (Debian 13's busybox-static for arm64, linked to sh,
// true and uname), /var/task and /var/runtime, and the base's
// LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR and WORKDIR; the bootstrap is static
// (CGO_ENABLED=0) and needs no libc. mmdebstrap's extract variant unpacks
// the package without running anything from it, so making the stand-in
// takes seconds and no emulation, where Debian's arm64 minbase
// (debianBase) runs its maintainer scripts under qemu.
func lambdaBaseArm64(p *podman) (string, error) {
	image := imageRef(generator.AWSBaseImage) + "-arm64"
	hook := `ln -s usr/bin "$1/bin" && mkdir -p "$1/var/task" "$1/var/runtime" && ` +
		`for a in sh true uname; do ln -s busybox "$1/usr/bin/$a"; done`
	changes := []string{
		"ENV PATH=/usr/local/bin:/usr/bin:/bin",
		"ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime",
		"WORKDIR /var/task",
	}
	key := recipeKey("lambda-arm64-v1", hook, strings.Join(changes, "\n"))
	if p.imageLabel(image, baseLabel) == key {
		return image, nil
	}
	dir, err := os.MkdirTemp("", "imagetest-lambda-arm64-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tarball := filepath.Join(dir, "root.tar")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mmdebstrap", "--variant=extract", "--quiet", "--architectures=arm64",
		"--include=busybox-static", "--extract-hook="+hook, "trixie", tarball, "http://deb.debian.org/debian")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mmdebstrap busybox-static (arm64): %w\n%s", err, tail(string(out), 8<<10))
	}
	args := []string{"import", "--arch", "arm64", "--change", "LABEL " + baseLabel + "=" + key}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	_, err = p.run(5*time.Minute, append(args, tarball, image)...)
	return image, err
}

// slimOptions make mmdebstrap's minbase what Docker Hub's debian slim
// images are: no manuals, documentation or translations (dpkg leaves them
// out), and apt removes the packages it downloaded once installed.
var slimOptions = []string{
	"--dpkgopt=path-exclude=/usr/share/man/*",
	"--dpkgopt=path-exclude=/usr/share/info/*",
	"--dpkgopt=path-exclude=/usr/share/groff/*",
	"--dpkgopt=path-exclude=/usr/share/lintian/*",
	"--dpkgopt=path-exclude=/usr/share/locale/*",
	"--dpkgopt=path-exclude=/usr/share/doc/*",
	"--dpkgopt=path-include=/usr/share/doc/*/copyright",
	`--aptopt=DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }`,
	`--aptopt=APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }`,
	`--aptopt=Dir::Cache::pkgcache ""`,
	`--aptopt=Dir::Cache::srcpkgcache ""`,
	"--aptopt=Acquire::Languages none",
}

// makeDebian makes the Debian 13 base from mmdebstrap's minbase variant,
// slimmed as Docker Hub's is, with the machine's CA bundle where apt's
// ca-certificates keeps it.
func makeDebian(p *podman, image, arch, key string) error {
	dir, err := os.MkdirTemp("", "imagetest-debian-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tarball := filepath.Join(dir, "root.tar")
	hook := fmt.Sprintf(`mkdir -p "$1/etc/ssl/certs" "$1/usr/local/share/ca-certificates" && `+
		`cp %[1]s "$1/etc/ssl/certs/ca-certificates.crt" && cp %[1]s "$1/usr/local/share/ca-certificates/imagetest-machine.crt"`, machineCABundle)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"--variant=minbase", "--quiet", "--architectures=" + arch, "--customize-hook=" + hook},
		slimOptions...)
	cmd := exec.CommandContext(ctx, "mmdebstrap", append(args, "trixie", tarball, "http://deb.debian.org/debian")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mmdebstrap trixie (%s): %w\n%s", arch, err, tail(string(out), 8<<10))
	}
	_, err = p.run(5*time.Minute, "import", "--arch", arch,
		"--change", "LABEL "+baseLabel+"="+key,
		"--change", "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
		"--change", `CMD ["bash"]`,
		tarball, image)
	return err
}

// makeGo makes the Go image from the Debian base and the machine's Go. Its
// GOPROXY reads the machine's module download cache, which builds mount at
// /goproxy, before the network.
func makeGo(p *podman, debian, image, goroot, key string) error {
	name := fmt.Sprintf("imagetest-go-%d", os.Getpid())
	if _, err := p.run(time.Minute, "create", "--name", name, debian, "true"); err != nil {
		return err
	}
	defer func() { _, _ = p.run(time.Minute, "rm", "-f", name) }()
	if _, err := p.run(5*time.Minute, "cp", goroot, name+":/usr/local/go"); err != nil {
		return err
	}
	_, err := p.run(5*time.Minute, "commit", "--quiet",
		"--change", "LABEL "+baseLabel+"="+key,
		"--change", "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", "ENV GOPATH=/go GOTOOLCHAIN=local GOFLAGS=-buildvcs=false",
		"--change", "ENV GOPROXY=file:///goproxy,"+goProxy(),
		"--change", "WORKDIR /go",
		name, image)
	return err
}

// imageRef is a Docker Hub short name as podman stores it.
func imageRef(short string) string {
	if strings.Count(short, "/") == 0 {
		return "docker.io/library/" + short
	}
	return short
}

func recipeKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// goEnv is one of the machine's go env values.
func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// goProxy is the machine's GOPROXY, the fallback of the Go image's.
func goProxy() string {
	if v := goEnv("GOPROXY"); v != "" && v != "off" {
		return v
	}
	return "https://proxy.golang.org"
}

// goModDownloadCache is the machine's module download cache, which the Go
// image's GOPROXY reads (mounted at /goproxy) before the network.
func goModDownloadCache(t testing.TB) string {
	t.Helper()
	dir := goEnv("GOMODCACHE")
	if dir == "" {
		t.Fatal("go env GOMODCACHE is empty")
	}
	return filepath.Join(dir, "cache", "download")
}

// goBuildCache is a folder kept between runs for the Go stage's build
// cache (mounted at /root/.cache/go-build).
func goBuildCache(t testing.TB) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "helios-imagetest", "go-build")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
