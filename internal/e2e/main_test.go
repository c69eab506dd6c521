package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
)

// TestMain runs the tests from the module root, where the README's
// commands and the examples' paths are written to run.
func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	root, err := lambdatest.ModuleRoot(ctx)
	cancel()
	if err == nil {
		err = os.Chdir(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: finding the module root:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
