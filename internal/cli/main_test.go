package cli

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the helios-scaffold command, which
// the scripts under testdata/script call as a real subprocess.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"helios-scaffold": func() {
			os.Exit(Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
		},
	})
}
