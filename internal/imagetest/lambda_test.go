package imagetest

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// lambdaUser is an unprivileged uid:gid, as Lambda runs functions: the
// image names no USER.
const lambdaUser = "993:990"

// TestLambdaHelios builds the --deps helios Lambda image (x86_64, this
// machine's platform) over a Helios project with an npm lockfile and runs
// it as Lambda would: under the Runtime Interface Emulator, as a non-root
// user, with a read-only root and a writable /tmp. It answers the
// contract's failure and 400 cases, and renders a real chunk whose spec
// the image's own Helios CLI emitted, the spec and assets read from and
// the output written to moto_server.
func TestLambdaHelios(t *testing.T) {
	p := setup(t)
	srv := s3test.Shared(t)
	bins, err := lambdatest.Build()
	if err != nil {
		t.Fatal(err)
	}
	// The emulator goes in through a folder the function's user may read.
	rie := t.TempDir()
	if err := os.Chmod(rie, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, bins.RIE, filepath.Join(rie, "aws-lambda-rie"))
	if err := os.Chmod(filepath.Join(rie, "aws-lambda-rie"), 0o755); err != nil {
		t.Fatal(err)
	}
	repo := project(t, withLockfile, "init", "aws", "--module", "example.com/lambda", "--arch", "x86_64",
		"--job-bucket", "renders", "--deps", "helios")
	const tag = "localhost/imagetest-lambda-helios:test"
	buildRenderImage(t, p, repo, tag, nil)
	j := emitJob(t, p, tag)

	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "project/composition.html", readFixture(t, "composition.html"))
	srv.PutObject(t, bucket, "jobs/job.json", j.with("s3://"+bucket+"/project", "s3://"+bucket+"/out"))
	broken := `{"chunks": [{"id": 7, "outputFile": "x", "command": "sh -c 'echo broken >&2; exit 3'"}]}`
	srv.PutObject(t, bucket, "jobs/broken.json", []byte(broken))

	invokeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c := p.start(t, "--network", "host", "--read-only", "--tmpfs", "/tmp:rw,mode=1777,size=2g", "--user", lambdaUser,
		"-v", rie+":/rie:ro", "--entrypoint", "/rie/aws-lambda-rie",
		"-e", "AWS_ENDPOINT_URL_S3="+srv.Endpoint, "-e", "AWS_REGION="+s3test.Region,
		"-e", "AWS_ACCESS_KEY_ID=test", "-e", "AWS_SECRET_ACCESS_KEY=test", "-e", "AWS_EC2_METADATA_DISABLED=true",
		"-e", "HELIOS_S3_FORCE_PATH_STYLE=true", "-e", "AWS_LAMBDA_FUNCTION_TIMEOUT=300",
		tag, "--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "/usr/local/bin/bootstrap")
	waitListening(t, c, invokeAddr)
	client := lambda.New(lambda.Options{BaseEndpoint: aws.String("http://" + invokeAddr), Region: "us-east-1",
		Credentials: aws.AnonymousCredentials{}, Retryer: aws.NopRetryer{}})

	ch := j.chunks[0]
	tests := []struct {
		name, payload string
		status        int
		check         func(map[string]any) string
	}{
		{"render", fmt.Sprintf(`{"jobPath": "s3://%s/jobs/job.json", "chunkIndex": %d}`, bucket, ch.ID), 200,
			func(b map[string]any) string {
				return want(b["exitCode"] == 0.0 && b["renderer"] == "warm", "exit 0, rendered warm (read-only root, /tmp alone writable)")
			}},
		{"failure", fmt.Sprintf(`{"jobPath": "s3://%s/jobs/broken.json", "chunkIndex": 7}`, bucket), 500,
			func(b map[string]any) string {
				return want(b["exitCode"] == 3.0 && b["stderr"] == "broken\n" && b["renderer"] == "process", "exit 3 and its stderr, as a process")
			}},
		{"not an object", `[1]`, 400, func(b map[string]any) string {
			return want(b["message"] == "Invalid payload: must be an object", "the contract's message")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := invoke(t, client, tt.payload)
			if status != tt.status {
				t.Fatalf("statusCode %d, want %d: %v", status, tt.status, body)
			}
			if msg := tt.check(body); msg != "" {
				t.Errorf("%s; got %v", msg, body)
			}
		})
	}
	checkVideo(t, ch, getObject(t, srv, bucket, "out/"+ch.OutputFile))
}

// TestLambdaHeliosArm64 builds the Lambda function's default architecture,
// arm64, on this machine under qemu. It times the Go stage alone (with an
// empty Go build cache) on the build platform, as BuildKit runs it and
// podman with BUILDPLATFORM given, and emulated, as Docker's classic
// builder runs it and every builder did before; then the whole image with
// the Go stage native (its browser pinned as pinArgs has it), whose
// bootstrap must be an ELF for aarch64. Opt-in with HELIOS_IMAGES_ARM64=1:
// it takes many minutes (the default arm64 image, without --deps, is
// TestLambdaDefaultArm64's, in every run).
func TestLambdaHeliosArm64(t *testing.T) {
	if os.Getenv("HELIOS_IMAGES_ARM64") != "1" {
		t.Skip("set HELIOS_IMAGES_ARM64=1 to time the arm64 builds under qemu")
	}
	if msg := qemuMissing(); msg != "" {
		t.Fatalf("%s: %s", msg, qemuHowTo)
	}
	p := setup(t)
	debian, _, err := debianBase(p, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	goEmulated, err := goArm64(p)
	if err != nil {
		t.Fatal(err)
	}
	repo := project(t, withLockfile, "init", "aws", "--module", "example.com/lambda", "--deps", "helios")
	arm64 := []string{"--platform", "linux/arm64", "--no-cache", "--build-arg=BASE_IMAGE=" + debian}
	native := "--build-arg=BUILDPLATFORM=linux/" + runtime.GOARCH
	stages := []struct{ name, arg string }{
		{"go_stage_native", native},
		{"go_stage_emulated", "--build-arg=GO_IMAGE=" + goEmulated},
	}
	for i, s := range stages {
		t.Run(s.name, func(t *testing.T) {
			tag := fmt.Sprintf("localhost/imagetest-lambda-arm64-go:%d", i)
			took := p.buildWithCache(t, repo, tag, t.TempDir(), append(arm64, "--target", "build", s.arg)...)
			t.Logf("arm64 Go stage, %s, empty Go build cache: built in %v", s.name, took.Round(time.Second))
		})
	}
	t.Run("image", func(t *testing.T) {
		const tag = "localhost/imagetest-lambda-arm64:test"
		pin, _ := pinArgs(t, p, recordedInputs(t, repo), "")
		took := p.build(t, repo, tag, append(append(arm64, native), pin...)...)
		arch := strings.TrimSpace(p.must(t, time.Minute, "image", "inspect", "--format", "{{.Architecture}}", tag))
		if arch != "arm64" {
			t.Errorf("the image is for %s, want arm64", arch)
		}
		if m := elfMachine(t, p, tag, "/usr/local/bin/bootstrap"); m != elf.EM_AARCH64 {
			t.Errorf("the bootstrap is an ELF for %v, want %v", m, elf.EM_AARCH64)
		}
		t.Logf("arm64 --deps helios image, Go stage native: built in %v", took.Round(time.Second))
	})
}

// invoke sends payload to the emulator and decodes the contract's answer:
// its statusCode and the JSON object in its body.
func invoke(t *testing.T, client *lambda.Client, payload string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lambdatest.FunctionName), Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	var body map[string]any
	if err := json.Unmarshal(out.Payload, &resp); err != nil || json.Unmarshal([]byte(resp.Body), &body) != nil {
		t.Fatalf("payload %q is not the contract's answer: %v", out.Payload, err)
	}
	return resp.StatusCode, body
}

func getObject(t *testing.T, srv *s3test.Server, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
