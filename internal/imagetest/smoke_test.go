package imagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hangingComposition never lets its first frame finish: its script spins,
// so the page never answers, as a browser that hangs the Helios CLI.
const hangingComposition = `<!doctype html>
<html><body><canvas id="c"></canvas>
<script>
  requestAnimationFrame(function spin() { for (;;) {} });
  for (;;) {}
</script></body></html>
`

// testSmokeRender builds the --deps helios image of repo again (its
// layers are there, so only the smoke step runs again) with a smoke
// composition that hangs: the build fails within HELIOS_SMOKE_TIMEOUT with
// the renderer's output and says the image cannot render; with
// HELIOS_SMOKE_RENDER=off the same build passes and says the smoke render
// was skipped. It logs what the smoke render took in each build. pin is
// the build arguments of the first build, version the browser's.
func testSmokeRender(t *testing.T, p *podman, repo string, pin []string, version string) {
	const tag = "localhost/imagetest-smoke:test"
	smoke := filepath.Join(repo, ".helios", "smoke", "composition.html")
	good, err := os.ReadFile(smoke)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(smoke, []byte(hangingComposition), 0o644); err != nil {
		t.Fatal(err)
	}
	const timeout = 20
	start := time.Now()
	out, _, err := p.tryBuild(t, repo, tag, goBuildCache(t), append(pin, "--build-arg", "HELIOS_SMOKE_TIMEOUT=20")...)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("a smoke render that hangs: the build passed:\n%s", tail(out, 4<<10))
	}
	msg := err.Error()
	for _, want := range []string{"helios-scaffold: the smoke render failed (exit 124; 124 is a timeout after 20 s)", "this image cannot render"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failed build does not say %q:\n%s", want, tail(msg, 4<<10))
		}
	}
	if took > timeout*time.Second+90*time.Second {
		t.Errorf("the hanging smoke render failed the build after %v, want about %d s", took.Round(time.Second), timeout)
	}
	t.Logf("a hanging smoke render failed the build in %v (timeout %d s)", took.Round(time.Second), timeout)

	out = buildImage(t, p, repo, tag, append(pin, "--build-arg", "HELIOS_SMOKE_RENDER=off")...)
	if !strings.Contains(out, "helios-scaffold: smoke render skipped (HELIOS_SMOKE_RENDER=off)") {
		t.Errorf("HELIOS_SMOKE_RENDER=off: the build does not say the smoke render was skipped:\n%s", tail(out, 4<<10))
	}

	// The good composition again, with a timeout that no layer was built
	// with: only the smoke step runs, as after the off build.
	if err := os.WriteFile(smoke, good, 0o644); err != nil {
		t.Fatal(err)
	}
	out = buildImage(t, p, repo, tag, append(pin, "--build-arg", "HELIOS_SMOKE_TIMEOUT=121")...)
	checkSmoke(t, out, version)
}
