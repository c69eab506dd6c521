package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.html from the rendered pages")

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		data Data
	}{
		{"sample.html", sampleData()},
		{"empty.html", emptyData()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Render(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Render(tc.data)
			if err != nil || !bytes.Equal(got, again) {
				t.Errorf("a second Render of the same Data differs (%v)", err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run Golden -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Render differs from %s (go test -run Golden -update rewrites it); got:\n%s", golden, got)
			}
		})
	}
}

// TestSelfContained checks that the page fetches nothing and runs nothing:
// no script, no event handler, no link, no URL but the SVG namespace.
func TestSelfContained(t *testing.T) {
	bad := regexp.MustCompile(`(?i)<script|<link|<img|<iframe|<object|<embed|\ssrc=|\shref=|@import|url\(|\son[a-z]+=|https?://`)
	for _, d := range []Data{sampleData(), emptyData(), {}} {
		page, err := Render(d)
		if err != nil {
			t.Fatal(err)
		}
		page = bytes.ReplaceAll(page, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil)
		if m := bad.Find(page); m != nil {
			t.Errorf("the page of %q holds %q", d.Title, m)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	d := sampleData()
	d.Title = `"><img src=x onerror=alert(1)>`
	d.Target = `<b>aws</b>`
	d.Outcome = `done" onclick="x`
	d.Message = `</div><script>alert("m")</script>`
	d.PriceNote = `<style>body{display:none}</style>`
	d.Attempts[3].Reason = `<script>alert("reason")</script> & more`
	page, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, raw := range []string{`<script`, `<img`, `<b>aws`, `onclick="x`, `<style>body{display`, `</div><script`} {
		if strings.Contains(s, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	for _, escaped := range []string{
		`&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`,
		`&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt; &amp; more`,
		`&lt;b&gt;aws&lt;/b&gt;`,
		`class="badge b-other"`,
	} {
		if !strings.Contains(s, escaped) {
			t.Errorf("the page lacks %q", escaped)
		}
	}
}

func TestRenderTruncatesReasons(t *testing.T) {
	d := sampleData()
	d.Attempts[3].Reason = strings.Repeat("é", 1000) + "END"
	page, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	if strings.Contains(s, "END") || !strings.Contains(s, strings.Repeat("é", maxReason)+"…<") || strings.Contains(s, strings.Repeat("é", maxReason+1)) {
		t.Errorf("the reason is not cut to %d runes", maxReason)
	}
}

func TestRenderCounts(t *testing.T) {
	page, err := Render(sampleData())
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		`id="n-chunks">8<`, `id="n-ok">7<`, `id="n-failed">1<`, `id="n-retried">1<`, `id="n-hedges">2<`,
		`id="n-lost">2<`, `id="n-skipped">0<`, `id="n-attempts">11<`, `id="n-not-done">1<`,
		`id="p50">8.00 s<`, `id="p95">12.00 s<`, `id="max">12.00 s<`, `id="worker-time">84.00 s<`,
		`id="uploaded" title="3670016 bytes">3.5 MiB<`, `id="output" title="7340032 bytes">7.0 MiB<`,
		`id="cost">$0.0192<`, `id="estimate">$2.50<`, `id="downloaded" title="1610612736 bytes">1.5 GiB<`, `id="wall">25.00 s<`,
		`4 worker slots`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(s, "data-chunk="); n != 11 {
		t.Errorf("%d attempt rects, want 11", n)
	}
}
