package s3test

import (
	"fmt"
	"strings"
	"testing"
)

// TestNoMoto: without moto_server on PATH the tests skip, saying why,
// and fail instead when HELIOS_REQUIRE_MOTO=1.
func TestNoMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for require, want := range map[string]string{"": "skip", "0": "skip", "1": "fail"} {
		t.Setenv(EnvRequire, require)
		tb := &recordingTB{TB: t}
		if bin := lookPath(tb); bin != "" {
			t.Fatalf("found %s on an empty PATH", bin)
		}
		if got := tb.outcome(); got != want || !strings.Contains(tb.msg, "moto_server is not on PATH") {
			t.Errorf("%s=%q: %s %q, want to %s saying moto_server is not on PATH", EnvRequire, require, got, tb.msg, want)
		}
	}
}

// recordingTB records Skipf and Fatalf instead of ending the test.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func (r *recordingTB) outcome() string {
	switch {
	case r.failed && !r.skipped:
		return "fail"
	case r.skipped && !r.failed:
		return "skip"
	}
	return "neither"
}
