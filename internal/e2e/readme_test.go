package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadmeFirstCommand runs the README's first command, as a new user
// would paste it, with its demo directory moved into a temporary one: it
// must scaffold a project that builds and answers one chunk locally.
func TestReadmeFirstCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a scaffolded project; skipped with -short")
	}
	line := readmeLineAfter(t, "# Scaffold a Lambda worker", "go run . init aws")
	demo := filepath.Join(t.TempDir(), "helios-demo")
	command := strings.ReplaceAll(line, "/tmp/helios-demo", demo)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euc", command)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", command, err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"create      cmd/helios-worker/main.go", `{"statusCode":200,`, "rendering frames 0+30 of hello"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestReadmeTestCommandIsCIs wants the README's test command to be the one
// .ci/run runs, on a line of its own, so that CI checks what the README
// tells a newcomer to run.
func TestReadmeTestCommandIsCIs(t *testing.T) {
	command := readmeLineAfter(t, "# Run the tests", "go test ")
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ci), "\n") {
		if line == command {
			return
		}
	}
	t.Errorf(".ci/run has no line %q, the README's test command", command)
}

// readmeLineAfter is the README's line after the one that holds marker,
// which must start with prefix.
func readmeLineAfter(t *testing.T, marker, prefix string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("README.md has no %q line", marker)
	}
	lines := strings.SplitN(rest, "\n", 3)
	if len(lines) < 3 || !strings.HasPrefix(lines[1], prefix) {
		t.Fatalf("the line after %q does not start with %q: %q", marker, prefix, lines)
	}
	return lines[1]
}
