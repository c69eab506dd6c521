package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
)

// naiveBinary builds the baseline server (./internal/cmd/bench/naiveserver)
// into dir with the Cloud Run worker's build flags, once per run, and
// returns its path. It is measured as the worker is: a separate process,
// exec'd, loaded over HTTP on loopback.
func naiveBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "naiveserver")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	root, err := lambdatest.ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./internal/cmd/bench/naiveserver")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the naive server: %w\n%s", err, out)
	}
	return bin, nil
}

// withNaive starts the baseline server, waits for its first answer (a
// true chunk), runs measure against it, and stops it.
func withNaive(ctx context.Context, j jobs, dir string, measure func(*server) error) error {
	bin, err := naiveBinary(ctx, dir)
	if err != nil {
		return err
	}
	srv, _, err := startServer(ctx, bin, dir, j.event(chunkTrue))
	if err != nil {
		return fmt.Errorf("naive server: %w", err)
	}
	defer srv.stop()
	return measure(srv)
}
