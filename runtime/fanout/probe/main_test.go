package probe_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
)

// TestMain skips Example, whose output needs ffmpeg and ffprobe, where
// either is missing, as the tests skip themselves.
func TestMain(m *testing.M) {
	flag.Parse()
	_, ok := probe.Find()
	if _, err := exec.LookPath("ffmpeg"); err != nil || !ok {
		skipExample()
	}
	os.Exit(m.Run())
}

// skipExample adds Example to -test.skip.
func skipExample() {
	f := flag.Lookup("test.skip")
	switch old := f.Value.String(); {
	case old == "":
		f.Value.Set("^Example$")
	case !strings.Contains(old, "/"):
		f.Value.Set("^Example$|" + old)
	default:
		fmt.Fprintln(os.Stderr, "probe: -skip has subtest patterns; add Example to it, as ffmpeg or ffprobe is missing")
		return
	}
	fmt.Fprintln(os.Stderr, "probe: ffmpeg or ffprobe is not on PATH: Example skipped")
}
