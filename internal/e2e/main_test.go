package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// TestMain runs the tests from the module root, where the README's
// commands and the examples' paths are written to run.
func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	root, err := lambdatest.ModuleRoot(ctx)
	cancel()
	if err == nil {
		err = os.Chdir(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: finding the module root:", err)
		os.Exit(1)
	}
	code := s3test.Run(m) // stops moto_server, if a test started it
	lambdatest.RemoveBuild()
	if cloudRunBuild.dir != "" {
		os.RemoveAll(cloudRunBuild.dir)
	}
	os.Exit(code)
}
