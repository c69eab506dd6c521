//go:build unix

package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// chromium is Debian's headless shell, as the render tests use it.
const chromium = "/usr/bin/chromium-headless-shell"

// browserTimeout bounds one run of the browser: its process group is
// killed beyond it.
const browserTimeout = 60 * time.Second

var screenshotCopy = flag.String("screenshot", "", "copy TestBrowser's screenshot of the sample report to this file")

// The outcome colours as the page's style sets them, and two of its own.
var (
	green  = rgb{0x2e, 0x7d, 0x32}
	orange = rgb{0xef, 0x6c, 0x00}
	red    = rgb{0xc6, 0x28, 0x28}
	grey   = rgb{0x9e, 0x9e, 0x9e}
	purple = rgb{0x6a, 0x1b, 0x9a}
	slate  = rgb{0x37, 0x47, 0x4f}
	blue   = rgb{0x15, 0x65, 0xc0} // a hedge's outline
	plotBG = rgb{0xf7, 0xf9, 0xfc} // the timeline's background
)

type rgb [3]uint8

// TestBrowser opens reports in headless Chromium and checks what it shows:
// the DOM it builds, and the colours of the screenshot it takes.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no %s (apt-get install chromium-headless-shell)", chromium)
	}
	t.Run("sample", func(t *testing.T) {
		dom, shot := browse(t, sampleData())
		checkSampleDOM(t, dom)
		checkSampleShot(t, shot)
		if *screenshotCopy != "" {
			if err := os.WriteFile(*screenshotCopy, shot, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("nothing ran", func(t *testing.T) {
		dom, shot := browse(t, emptyData())
		if !bytes.Contains(dom, []byte(`id="nothing-ran">nothing ran<`)) || bytes.Contains(dom, []byte("data-chunk=")) {
			t.Errorf("the DOM of the empty report does not say nothing ran, or draws attempts:\n%s", dom)
		}
		img := decode(t, shot)
		n := countColours(img, img.Bounds())
		for _, c := range []rgb{green, orange, red, purple, slate, blue, plotBG} {
			if n[c] != 0 {
				t.Errorf("%d pixels of #%x, want none", n[c], c[:])
			}
		}
		// Grey is neutral: the antialiased edges of any text have its
		// shade. A grey fill is what must not be there.
		if n := countFills(img, grey); n != 0 {
			t.Errorf("%d pixels inside areas of #%x, want none", n, grey[:])
		}
	})
}

// browse writes d's report into a temporary folder and has Chromium dump
// its DOM and take a screenshot of it.
func browse(t *testing.T, d Data) (dom, shot []byte) {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := Write(page, d); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	dom = runChromium(t, dir, "--dump-dom", url)
	shotPath := filepath.Join(dir, "shot.png")
	runChromium(t, dir, "--screenshot="+shotPath, url)
	shot, err := os.ReadFile(shotPath)
	if err != nil {
		t.Fatal(err)
	}
	return dom, shot
}

// runChromium runs the headless shell on args with a home and a profile
// of its own below dir, and returns its standard output. Its process group
// is killed when it takes longer than browserTimeout, and once it is done,
// for anything it left behind.
func runChromium(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(testdeadline.Context(t), browserTimeout)
	defer cancel()
	home, err := os.MkdirTemp(dir, "home")
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--no-sandbox", "--disable-gpu", "--headless", "--hide-scrollbars",
		"--force-device-scale-factor=1", "--window-size=1200,1600", "--user-data-dir=" + filepath.Join(home, "profile")}, args...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil || err != nil {
		errs := stderr.String()
		t.Fatalf("%s %s: %v (context: %v); its standard error ends:\n%s", chromium, strings.Join(args, " "), err, ctx.Err(), errs[max(0, len(errs)-2000):])
	}
	return stdout.Bytes()
}

func checkSampleDOM(t *testing.T, dom []byte) {
	t.Helper()
	s := string(dom)
	for _, want := range []string{
		`id="n-chunks">8<`, `id="n-ok">7<`, `id="n-failed">1<`, `id="n-retried">1<`, `id="n-hedges">2<`, `id="n-lost">2<`,
		`id="p50">8.00 s<`, `id="p95">12.00 s<`, `id="max">12.00 s<`,
		`<td>5</td><td>1</td><td>150–179</td><td class="n">12.00 s</td><td class="n">400.0</td>`,
		`<td>7</td><td>1</td><td>210–239</td><td class="n">4.00 s</td><td class="n">133.3</td>`,
		`<title>chunk 3 attempt 1: failed, 6.00 s, frames 90–119 — exit status 1: Error: composition not found</title>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
	for _, c := range []struct {
		re   string
		want int
	}{
		{`<rect[^>]*\sdata-chunk=`, len(sampleData().Attempts)},
		{`<rect[^>]*\sclass="o-ok hedge"`, 1},
		{`<rect[^>]*\sclass="o-lost hedge"`, 1},
		{`<tr class="slow">`, 7},
		{`<tr class="failure">`, 2},
		{`nothing ran`, 0},
	} {
		if n := len(regexp.MustCompile(c.re).FindAllString(s, -1)); n != c.want {
			t.Errorf("the DOM has %d of %s, want %d", n, c.re, c.want)
		}
	}
}

// checkSampleShot counts each outcome's pixels in the timeline (the
// bounding box of its background's pixels): every outcome of the sample
// shows, and each covers an area in proportion to its attempts' time.
func checkSampleShot(t *testing.T, shot []byte) {
	t.Helper()
	img := decode(t, shot)
	plot := boundsOf(img, plotBG)
	if plot.Dx() < 800 || plot.Dy() < 80 {
		t.Fatalf("the timeline's background covers %v, want about 908 by 96 px", plot)
	}
	n := countColours(img, plot)
	t.Logf("timeline %v: %d green, %d orange, %d red, %d grey, %d blue pixels", plot, n[green], n[orange], n[red], n[grey], n[blue])
	// Seconds of each outcome in the sample, hedges included.
	secs := map[rgb]float64{green: 8 + 9 + 8 + 8 + 12 + 4 + 6, orange: 4, red: 6, grey: 15 + 4}
	for c, s := range secs {
		if n[c] == 0 {
			t.Errorf("no pixel of #%x in the timeline %v", c[:], plot)
			continue
		}
		// Pixels per second, against green's: the hedges' dashed outlines
		// and the edges take a few percent.
		ratio := float64(n[c]) / s / (float64(n[green]) / secs[green])
		if ratio < 0.8 || ratio > 1.25 {
			t.Errorf("#%x: %d pixels for %v s, %.2f times green's %d pixels for %v s; want about 1", c[:], n[c], s, ratio, n[green], secs[green])
		}
	}
	if n[purple] != 0 || n[blue] == 0 {
		t.Errorf("%d purple pixels (none killed), %d blue (the hedges' outlines)", n[purple], n[blue])
	}
}

// decode decodes a PNG into 8-bit RGBA.
func decode(t *testing.T, data []byte) *image.NRGBA {
	t.Helper()
	src, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	img := image.NewNRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	return img
}

// countColours counts the opaque pixels of each colour within r.
func countColours(img *image.NRGBA, r image.Rectangle) map[rgb]int {
	n := map[rgb]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if p := img.Pix[img.PixOffset(x, y):]; p[3] == 0xff {
				n[rgb{p[0], p[1], p[2]}]++
			}
		}
	}
	return n
}

// countFills counts img's pixels of colour c whose eight neighbours are of
// colour c too: the inside of filled areas, not the edges of glyphs.
func countFills(img *image.NRGBA, c rgb) int {
	is := func(x, y int) bool {
		p := img.Pix[img.PixOffset(x, y):]
		return p[3] == 0xff && (rgb{p[0], p[1], p[2]}) == c
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y + 1; y < b.Max.Y-1; y++ {
		for x := b.Min.X + 1; x < b.Max.X-1; x++ {
			if is(x-1, y-1) && is(x, y-1) && is(x+1, y-1) && is(x-1, y) && is(x, y) && is(x+1, y) && is(x-1, y+1) && is(x, y+1) && is(x+1, y+1) {
				n++
			}
		}
	}
	return n
}

// boundsOf returns the bounding box of img's pixels of colour c.
func boundsOf(img *image.NRGBA, c rgb) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if p := img.Pix[img.PixOffset(x, y):]; p[3] == 0xff && (rgb{p[0], p[1], p[2]}) == c {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}
