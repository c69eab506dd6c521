// Package lambdatest runs the Lambda entry point as users get it
// (internal/cmd/lambdaworker, built CGO_ENABLED=0 with lambda.norpc) under
// the AWS Lambda Runtime Interface Emulator pinned in go.mod as a tool, for
// end-to-end tests and benchmarks.
//
//	bins, err := lambdatest.BuildT(t)        // once per process
//	emu := lambdatest.StartT(t, bins, lambdatest.Options{Env: env})
//	inv := emu.Call(ctx, worker.Request{...}) // through lambdacaller
//
// Each emulator listens on free loopback ports (both its invoke address and
// its Runtime API address, whose default 127.0.0.1:9001 would collide
// between emulators), is killed with its bootstrap and every chunk process
// when it stops, and keeps its combined output for assertions and failure
// reports, including the INIT REPORT duration.
package lambdatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// Binaries are the programs an emulator runs.
type Binaries struct {
	Dir       string // the temporary directory that holds both
	RIE       string // aws-lambda-rie
	Bootstrap string // internal/cmd/lambdaworker
}

// BuildTimeout bounds the two go builds that Build runs: a guard against a
// hang, long enough for a cold build cache on a loaded machine.
const BuildTimeout = 10 * time.Minute

var (
	buildOnce sync.Once
	built     Binaries
	buildErr  error
)

// ErrUnsupported is returned by Build where the emulator cannot run.
var ErrUnsupported = errors.New("the Lambda Runtime Interface Emulator runs on Linux only")

// Build builds the emulator and the bootstrap into a new temporary
// directory, once per process; later calls (of Build or BuildT) return the
// same result. Call RemoveBuild when done (from TestMain, after m.Run).
func Build() (Binaries, error) {
	return buildWithin(BuildTimeout)
}

// BuildT is Build for tests and benchmarks: the builds, if this call runs
// them, are bounded by tb's deadline (less a margin) instead of
// BuildTimeout.
func BuildT(tb testing.TB) (Binaries, error) {
	return buildWithin(testdeadline.Remaining(tb))
}

func buildWithin(timeout time.Duration) (Binaries, error) {
	buildOnce.Do(func() { built, buildErr = build(timeout) })
	return built, buildErr
}

// RemoveBuild deletes what Build made, if it ran.
func RemoveBuild() {
	if built.Dir != "" {
		os.RemoveAll(built.Dir)
	}
}

func build(timeout time.Duration) (Binaries, error) {
	if runtime.GOOS != "linux" {
		return Binaries{}, ErrUnsupported
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	root, err := ModuleRoot(ctx)
	if err != nil {
		return Binaries{}, err
	}
	dir, err := os.MkdirTemp("", "lambdatest-")
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{
		Dir:       dir,
		RIE:       filepath.Join(dir, "aws-lambda-rie"),
		Bootstrap: filepath.Join(dir, "bootstrap"),
	}
	steps := []struct {
		env  []string
		args []string
	}{
		{nil, []string{"build", "-o", b.RIE, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"}},
		{[]string{"CGO_ENABLED=0"}, []string{"build", "-tags", "lambda.norpc", "-o", b.Bootstrap, "./internal/cmd/lambdaworker"}},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, "go", s.args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return Binaries{}, fmt.Errorf("go %s: %w\n%s", strings.Join(s.args, " "), err, out)
		}
	}
	return b, nil
}

// ModuleRoot is the directory of the go.mod that `go env GOMOD` names.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the helios-scaffold module")
	}
	return filepath.Dir(gomod), nil
}
