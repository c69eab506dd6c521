package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/filetree"
	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// examples are the downstream modules under examples/, made by the CLI.
var examples = []struct{ dir, target, cmd string }{
	{"examples/aws-lambda", "aws", "./cmd/render-worker"},
	{"examples/cloud-run", "cloudrun", "./cmd/render-worker"},
	{"examples/cloud-run-job", "cloudrun", "./cmd/render-job"},
}

// TestExamplesRegenerate renders each example again from its recorded
// answers into a temporary directory and fails on any difference from the
// committed files, so templates and examples cannot drift apart.
func TestExamplesRegenerate(t *testing.T) {
	for _, ex := range examples {
		t.Run(filepath.Base(ex.dir), func(t *testing.T) {
			answers, err := generator.ReadAnswers(ex.dir)
			if err != nil || answers == nil {
				t.Fatalf("reading answers of %s: %v", ex.dir, err)
			}
			if string(answers.Inputs.Target) != ex.target {
				t.Fatalf("%s is scaffolded for %s, want %s", ex.dir, answers.Inputs.Target, ex.target)
			}
			tmp := t.TempDir()
			for _, name := range []string{generator.AnswersFile, "go.mod"} {
				copyFile(t, filepath.Join(ex.dir, name), filepath.Join(tmp, name))
			}
			out := runCLI(t, 0, "generate", "--dir", tmp)
			if strings.Contains(out, "skip-edited") || strings.Contains(out, "conflict") {
				t.Fatalf("generate into a copy kept files:\n%s", out)
			}
			got := filetree.Read(t, tmp)
			for _, rel := range filetree.Names(got) {
				want, err := os.ReadFile(filepath.Join(ex.dir, rel))
				if err != nil {
					t.Errorf("%s is generated but not committed: %v", rel, err)
				} else if !bytes.Equal(got[rel], want) {
					t.Errorf("%s/%s differs from a fresh generate; run: go run . generate --dir %s", ex.dir, rel, ex.dir)
				}
			}
			if want := len(answers.Files) + 2; len(got) != want {
				t.Errorf("generate wrote %d files, want %d (the answers' files, go.mod and the answers)", len(got), want)
			}
			// The committed tree itself is clean: nothing edited, nothing due.
			check := runCLI(t, 0, "generate", "--check", "--dir", ex.dir)
			if strings.Contains(check, "skip-edited") {
				t.Errorf("a generated file of %s was edited by hand:\n%s", ex.dir, check)
			}
		})
	}
}

// TestExamplesBuild checks that each example's go.mod and go.sum are tidy
// (they follow this module's requirements through the replace), vets it
// and builds it for both Linux architectures, as the platforms run it.
func TestExamplesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the examples; skipped with -short")
	}
	for _, ex := range examples {
		t.Run(filepath.Base(ex.dir), func(t *testing.T) {
			goCmd(t, ex.dir, nil, "mod", "tidy", "-diff")
			goCmd(t, ex.dir, nil, "vet", "./...")
			for _, arch := range []string{"amd64", "arm64"} {
				env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch}
				goCmd(t, ex.dir, env, "build", "-tags", "lambda.norpc", "-o", filepath.Join(t.TempDir(), "worker"), ex.cmd)
			}
		})
	}
}

// TestExampleLambdaUnderEmulator runs the aws example's bootstrap under the
// Lambda Runtime Interface Emulator and checks both answers of the
// contract: a chunk that succeeds and one that fails.
func TestExampleLambdaUnderEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the emulator; skipped with -short")
	}
	bins, err := lambdatest.Build()
	if err != nil {
		t.Fatalf("building the emulator: %v", err)
	}
	dir, _ := filepath.Abs("examples/aws-lambda")
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-tags", "lambda.norpc", "-o", bootstrap, "./cmd/render-worker")

	// EXAMPLE_FAIL makes the sample's chunk 1 fail, as its README shows.
	emu := lambdatest.StartT(t, lambdatest.Binaries{RIE: bins.RIE, Bootstrap: bootstrap}, lambdatest.Options{Dir: dir, Env: []string{"EXAMPLE_FAIL=1"}})
	ctx := testdeadline.Context(t)
	tests := []struct {
		chunk      int64
		wantStatus int
		wantExit   int
		wantText   string
	}{
		{0, 200, 0, "rendering frames 0+30 of hello"},
		{1, 500, 2, "frame 30 failed"},
	}
	for _, tt := range tests {
		inv := emu.Call(ctx, jobspec.Request{JobPath: "job.json", ChunkIndex: tt.chunk})
		if inv.Err != nil || inv.Result == nil {
			t.Fatalf("chunk %d: %v\n%s", tt.chunk, inv.Err, emu.Report(20, 20))
		}
		r := inv.Result
		if r.StatusCode != tt.wantStatus || r.ExitCode != tt.wantExit || !strings.Contains(r.Stdout+r.Stderr, tt.wantText) {
			t.Errorf("chunk %d: status %d exit %d output %q %q; want %d, %d, %q",
				tt.chunk, r.StatusCode, r.ExitCode, r.Stdout, r.Stderr, tt.wantStatus, tt.wantExit, tt.wantText)
		}
	}
}

// TestExampleCloudRunOnPort runs the cloudrun example's binary on $PORT,
// posts both chunks, then stops it with SIGTERM, which must exit 0.
func TestExampleCloudRunOnPort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	dir, _ := filepath.Abs("examples/cloud-run")
	bin := filepath.Join(t.TempDir(), "render-worker")
	goCmd(t, dir, []string{"CGO_ENABLED=0"}, "build", "-o", bin, "./cmd/render-worker")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "EXAMPLE_FAIL=1")
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	client := &http.Client{Timeout: testdeadline.Remaining(t)}
	waitListening(t, "127.0.0.1:"+strconv.Itoa(port))
	for _, tt := range []struct {
		chunk, status int
		text          string
	}{{0, 200, "rendering frames 0+30"}, {1, 500, "frame 30 failed"}} {
		body := `{"jobPath":"job.json","chunkIndex":` + strconv.Itoa(tt.chunk) + `}`
		resp, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("chunk %d: %v\n%s", tt.chunk, err, logs.String())
		}
		var got struct {
			ExitCode int    `json:"exitCode"`
			Stdout   string `json:"stdout"`
			Stderr   string `json:"stderr"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.status || !strings.Contains(got.Stdout+got.Stderr, tt.text) {
			t.Errorf("chunk %d: status %d, %+v, %v; want %d and %q", tt.chunk, resp.StatusCode, got, err, tt.status, tt.text)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-testdeadline.After(t):
		t.Fatal("still running long after SIGTERM")
	}
}

// TestExampleJobsRun: the sample job.json of the aws-lambda and cloud-run
// examples renders with helios-scaffold run as it is, both chunks and
// the merge, which makes its own list of the parts.
func TestExampleJobsRun(t *testing.T) {
	for _, example := range []string{"aws-lambda", "cloud-run"} {
		t.Run(example, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr strings.Builder
			args := []string{"run", filepath.Join("examples", example, "job.json"), "--target", "local", "--out", out,
				"--workspace-root", t.TempDir(), "--progress", "none"}
			if code := cli.Run(testdeadline.Context(t), args, &stdout, &stderr); code != 0 {
				t.Fatalf("helios-scaffold %v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
			}
			if got, err := os.ReadFile(filepath.Join(out, "out.txt")); string(got) != "frames 0+30\nframes 30+30\n" {
				t.Errorf("out.txt = %q, %v", got, err)
			}
		})
	}
}
