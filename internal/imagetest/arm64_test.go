package imagetest

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/lambdatest"
)

// qemuAarch64 is the binfmt_misc entry through which the kernel runs arm64
// programs with qemu-user-static.
const qemuAarch64 = "/proc/sys/fs/binfmt_misc/qemu-aarch64"

// qemuHowTo says how to register qemu-aarch64, as .ci/run does.
const qemuHowTo = "apt-get install qemu-user-static, then mount -t binfmt_misc binfmt_misc " +
	"/proc/sys/fs/binfmt_misc if needed and write the line of /usr/lib/binfmt.d/qemu-aarch64.conf " +
	"to /proc/sys/fs/binfmt_misc/register (.ci/run does)"

// qemuMissing says why arm64 programs cannot run in containers here, or is
// "" when qemu-aarch64 is registered, enabled and with the F (fix-binary)
// flag: the kernel then opened the interpreter at registration, so that it
// need not be in the container's file system.
func qemuMissing() string {
	data, err := os.ReadFile(qemuAarch64)
	if err != nil {
		return fmt.Sprintf("qemu-aarch64 is not registered with binfmt_misc (%v)", err)
	}
	lines := strings.Split(string(data), "\n")
	if lines[0] != "enabled" {
		return "qemu-aarch64 is registered with binfmt_misc but " + lines[0]
	}
	for _, line := range lines {
		if flags, ok := strings.CutPrefix(line, "flags: "); ok && strings.Contains(flags, "F") {
			return ""
		}
	}
	return "qemu-aarch64 is registered without the F (fix-binary) flag, which containers need"
}

// requireQemu skips t, or fails it under HELIOS_REQUIRE_IMAGES=1, unless
// arm64 programs can run in containers here.
func requireQemu(t *testing.T) {
	t.Helper()
	msg := qemuMissing()
	if msg == "" {
		return
	}
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("%s, and %s=1 requires the arm64 run: %s", msg, envRequire, qemuHowTo)
	}
	t.Skip(msg + ": " + qemuHowTo)
}

// TestLambdaDefaultArm64 builds the Lambda image of helios-scaffold init
// aws with its defaults (arm64, no --deps) for linux/arm64, the Go stage
// native, as BuildKit runs it, on the stand-in for the Lambda base (see
// lambdaBaseArm64). The image must be arm64 and its bootstrap an ELF for
// aarch64. Then, where qemu-aarch64 is registered, it runs the image under
// the Runtime Interface Emulator built for arm64, as Lambda would (non-root,
// read-only root, writable /tmp), and invokes a failing chunk and a payload
// that is not an object. Unlike TestLambdaHeliosArm64, it runs in every run.
func TestLambdaDefaultArm64(t *testing.T) {
	start := time.Now()
	p := setup(t)
	baseStart := time.Now()
	base, err := lambdaBaseArm64(p)
	if err != nil {
		t.Fatal(err)
	}
	baseTook := time.Since(baseStart)
	repo := project(t, nil, "init", "aws", "--module", "example.com/lambda")
	checkDefaults(t, repo)
	const tag = "localhost/imagetest-lambda-default-arm64:test"
	built := p.build(t, repo, tag, "--platform", "linux/arm64",
		"--build-arg=BUILDPLATFORM=linux/"+runtime.GOARCH, "--build-arg=BASE_IMAGE="+base)
	if arch := strings.TrimSpace(p.must(t, time.Minute, "image", "inspect", "--format", "{{.Architecture}}", tag)); arch != "arm64" {
		t.Errorf("the image is for %s, want arm64", arch)
	}
	if m := elfMachine(t, p, tag, "/var/runtime/bootstrap"); m != elf.EM_AARCH64 {
		t.Errorf("the bootstrap is an ELF for %v, want %v", m, elf.EM_AARCH64)
	}
	ran := "not run under qemu"
	t.Run("invoke_under_qemu", func(t *testing.T) {
		requireQemu(t)
		runStart := time.Now()
		invokeArm64(t, p, tag)
		ran = fmt.Sprintf("run under qemu in %v", time.Since(runStart).Round(time.Millisecond))
	})
	t.Logf("arm64 default Lambda image: base stand-in ready in %v, built in %v, %s; %v in all "+
		"(with the shared bases, made by the package's first test)", baseTook.Round(time.Millisecond),
		built.Round(time.Millisecond), ran, time.Since(start).Round(time.Millisecond))
}

// checkDefaults wants the Dockerfile that init wrote to be the default's:
// for arm64, on generator.AWSBaseImage, which the build replaces with its
// stand-in through BASE_IMAGE.
func checkDefaults(t *testing.T, repo string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(arm64)", "ARG BASE_IMAGE=" + generator.AWSBaseImage + "\n", "GOARCH=arm64"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the default Dockerfile has no %q:\n%s", want, data)
		}
	}
}

// elfMachine copies the file at path out of image and returns the machine
// its ELF header names.
func elfMachine(t *testing.T, p *podman, image, path string) elf.Machine {
	t.Helper()
	name := fmt.Sprintf("helios-imagetest-elf-%d-%d", os.Getpid(), time.Now().UnixNano())
	p.must(t, time.Minute, "create", "--name", name, image)
	defer func() { _, _ = p.run(time.Minute, "rm", "-f", name) }()
	file := filepath.Join(t.TempDir(), filepath.Base(path))
	p.must(t, time.Minute, "cp", name+":"+path, file)
	f, err := elf.Open(file)
	if err != nil {
		t.Fatalf("%s in %s: %v", path, image, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 {
		t.Errorf("%s in %s is %v, want %v", path, image, f.Class, elf.ELFCLASS64)
	}
	return f.Machine
}

// invokeArm64 runs the arm64 image under qemu with the Runtime Interface
// Emulator built for arm64, and invokes a chunk whose command prints the
// machine it runs on and exits 3, then a payload that is not an object.
func invokeArm64(t *testing.T, p *podman, image string) {
	t.Helper()
	start := time.Now()
	rie := rieArm64(t)
	t.Logf("aws-lambda-rie for arm64 built in %v", time.Since(start).Round(time.Millisecond))
	jobs := sharedDir(t)
	broken := `{"chunks": [{"id": 7, "outputFile": "x", "command": "sh -c 'uname -m >&2; exit 3'"}]}`
	if err := os.WriteFile(filepath.Join(jobs, "broken.json"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	invokeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c := p.start(t, "--network", "host", "--read-only", "--tmpfs", "/tmp:rw,mode=1777,size=64m", "--user", lambdaUser,
		"-v", rie+":/rie:ro", "-v", jobs+":/jobs:ro", "--entrypoint", "/rie/aws-lambda-rie",
		"-e", "AWS_LAMBDA_FUNCTION_TIMEOUT=60", image, "--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "/var/runtime/bootstrap")
	waitListening(t, c, invokeAddr)
	client := lambda.New(lambda.Options{BaseEndpoint: aws.String("http://" + invokeAddr), Region: "us-east-1",
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}})

	status, body := invoke(t, client, `{"jobPath": "/jobs/broken.json", "chunkIndex": 7}`)
	if status != 500 || body["exitCode"] != 3.0 || body["stderr"] != "aarch64\n" {
		t.Errorf("failing chunk: statusCode %d, %v; want 500, exit 3 and stderr \"aarch64\\n\"", status, body)
	}
	status, body = invoke(t, client, `[1]`)
	if status != 400 || body["message"] != "Invalid payload: must be an object" {
		t.Errorf("payload [1]: statusCode %d, %v; want 400 and the contract's message", status, body)
	}
}

// rieArm64 builds the Runtime Interface Emulator that go.mod pins for
// linux/arm64, static, into a folder the function's user may read.
func rieArm64(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lambdatest.BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "aws-lambda-rie"),
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building aws-lambda-rie for arm64: %v\n%s", err, out)
	}
	return dir
}
