package generator

import (
	"regexp"
	"slices"
	"strings"
)

// The browser a --deps helios image installs: Debian's
// chromium-headless-shell at an exact version, read from Debian's snapshot
// archive as it was at DefaultDebianSnapshot, so that the same Dockerfile
// builds the same browser for years. A new Debian package of the browser
// has broken the Helios CLI before (see [BadBrowserVersions]); a pin moves
// only when a user moves it (init --browser-version), after a test render.
const (
	// DefaultBrowserVersion renders with the Helios CLI 0.45.2: Debian 13's
	// point release 13.8 ships it.
	DefaultBrowserVersion = "156.0.8078.79-1~deb13u1"
	// DefaultDebianSnapshot is a time at which Debian's archive held
	// DefaultBrowserVersion (snapshot.debian.org's timestamp form).
	DefaultDebianSnapshot = "20261206T000000Z"
	// SnapshotOff builds from the base image's own (current) mirror; the
	// browser stays pinned, and the build fails once the mirror no longer
	// has that version.
	SnapshotOff = "off"
)

// BadBrowserVersions are Debian versions of chromium-headless-shell known
// to break Helios renders, each with what goes wrong: init refuses them.
var BadBrowserVersions = map[string]string{
	"156.0.8078.129-1~deb12u1": "the page closes during the Helios CLI 0.45.2's canvas diagnostics and the CLI waits forever",
	"156.0.8078.129-1~deb13u1": "the Helios CLI 0.45.2 waits forever in its canvas diagnostics: VideoEncoder.isConfigSupported never answers while the page's virtual clock is paused",
}

// The font sets of a --deps helios image (--fonts).
const (
	FontsBasic = "basic" // DejaVu: Latin, Greek, Cyrillic
	FontsNoto  = "noto"  // Noto: most scripts, CJK and colour emoji
)

// fontPackages are the Debian packages of each font set.
var fontPackages = map[string][]string{
	FontsBasic: {"fonts-dejavu-core"},
	FontsNoto:  {"fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji"},
}

// FontPackages is the Debian packages the image installs for in.Fonts.
func (in Inputs) FontPackages() string {
	return strings.Join(fontPackages[in.Fonts], " ")
}

var (
	// debianVersion is a Debian package version as the Dockerfile may
	// carry it unquoted: an optional epoch, then letters, digits and
	// . + ~ - only.
	debianVersion = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
	// snapshotID is snapshot.debian.org's timestamp.
	snapshotID = regexp.MustCompile(`^(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z$`)
)

// SetRenderDefaults gives a --deps helios image the browser pin and the
// fonts it records, where it has none: the defaults at first, and for
// answers written before they were recorded, so that what generate renders
// stays pinned when helios-scaffold's own defaults move. Other images
// record none.
func (in *Inputs) SetRenderDefaults() {
	if !in.HasHeliosDeps() {
		in.BrowserVersion, in.DebianSnapshot, in.Fonts = "", "", ""
		return
	}
	if in.BrowserVersion == "" {
		in.BrowserVersion, in.DebianSnapshot = DefaultBrowserVersion, DefaultDebianSnapshot
	}
	if in.Fonts == "" {
		in.Fonts = FontsBasic
	}
}

// validateBrowser checks the browser pin and the fonts: only a --deps
// helios image has them, and then all of them.
func (in Inputs) validateBrowser() []error {
	var errs problems
	bad := errs.check
	if !in.HasHeliosDeps() {
		bad(in.BrowserVersion != "" || in.DebianSnapshot != "" || in.Fonts != "",
			"--browser-version, --debian-snapshot and --fonts are for --deps helios")
		return errs
	}
	bad(!debianVersion.MatchString(in.BrowserVersion),
		"--browser-version %q: want the exact Debian version of chromium-headless-shell, such as %s (apt-cache policy chromium-headless-shell lists them)", in.BrowserVersion, DefaultBrowserVersion)
	if why, ok := BadBrowserVersions[in.BrowserVersion]; ok {
		bad(true, "--browser-version %s is known to break Helios renders: %s", in.BrowserVersion, why)
	}
	bad(in.DebianSnapshot != SnapshotOff && !snapshotID.MatchString(in.DebianSnapshot),
		"--debian-snapshot %q: want a time of Debian's snapshot archive at which it held the browser version, such as %s, or off", in.DebianSnapshot, DefaultDebianSnapshot)
	bad(!slices.Contains([]string{FontsBasic, FontsNoto}, in.Fonts), "--fonts %q: want basic (DejaVu) or noto (Noto, CJK and colour emoji)", in.Fonts)
	return errs
}
