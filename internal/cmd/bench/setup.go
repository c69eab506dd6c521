package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
)

// binaries are the programs under measurement.
type binaries struct {
	lambda   string // built as the issue asks for size: CGO_ENABLED=0 -trimpath -s -w lambda.norpc
	cloudrun string
	rie      string
	// The same entry points without their bucket store (-tags nostore):
	// the baseline of what the store costs.
	lambdaBare, cloudrunBare string
}

// build builds the binaries into dir: all of them, or only the Cloud Run
// binary when all is false.
func build(ctx context.Context, dir string, all bool) (binaries, error) {
	b := binaries{
		lambda:   filepath.Join(dir, "bootstrap"),
		cloudrun: filepath.Join(dir, "cloudrunworker"),
		rie:      filepath.Join(dir, "aws-lambda-rie"),

		lambdaBare:   filepath.Join(dir, "bootstrap-bare"),
		cloudrunBare: filepath.Join(dir, "cloudrunworker-bare"),
	}
	steps := [][]string{
		{"build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", b.lambda, "./internal/cmd/lambdaworker"},
		{"build", "-trimpath", "-ldflags=-s -w", "-o", b.cloudrun, "./internal/cmd/cloudrunworker"},
		{"build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc nostore", "-o", b.lambdaBare, "./internal/cmd/lambdaworker"},
		{"build", "-trimpath", "-ldflags=-s -w", "-tags", "nostore", "-o", b.cloudrunBare, "./internal/cmd/cloudrunworker"},
		{"build", "-o", b.rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"},
	}
	if !all {
		steps = steps[1:2]
	}
	root, err := lambdatest.ModuleRoot(ctx)
	if err != nil {
		return b, err
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return b, nil
}

// jobs names the job spec files and their chunk ids.
type jobs struct {
	spec string // one spec with the chunks below
}

const (
	chunkTrue = 0 // runs true
	chunkBig  = 1 // prints options.bigOutput bytes
	chunkHuge = 2 // prints options.hugeBytes bytes
)

func writeJobs(dir string, o options) (jobs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return jobs{}, err
	}
	print := func(n int64) string {
		return fmt.Sprintf("sh -c 'yes helios-render-progress-frame-0000 | head -c %d'", n)
	}
	spec := map[string]any{
		"id": "bench",
		"chunks": []map[string]any{
			{"id": chunkTrue, "command": "true", "outputFile": "t.mp4"},
			{"id": chunkBig, "command": print(o.bigOutput), "outputFile": "b.mp4"},
			{"id": chunkHuge, "command": print(o.hugeBytes), "outputFile": "h.mp4"},
		},
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return jobs{}, err
	}
	j := jobs{spec: filepath.Join(dir, "job.json")}
	return j, os.WriteFile(j.spec, data, 0o644)
}

func (j jobs) event(chunk int) []byte {
	return fmt.Appendf(nil, `{"jobPath":%q,"chunkIndex":%d}`, j.spec, chunk)
}
