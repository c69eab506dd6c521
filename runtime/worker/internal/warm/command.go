package warm

import (
	"path/filepath"
	"strings"
)

// valued are the flags of `helios render` that the warm renderer takes,
// each with a value: those `helios render --emit-job` writes, and the
// options the CLI gives the renderer.
var valued = map[string]bool{
	"-o": true, "--output": true, "--width": true, "--height": true, "--fps": true, "--duration": true,
	"--quality": true, "--mode": true, "--start-frame": true, "--frame-count": true, "--concurrency": true,
	"--audio-codec": true, "--video-codec": true,
}

// Command says whether argv, a chunk's command split into words, is a
// `helios render INPUT` that the warm renderer renders as the CLI would:
// argv[0] is helios (a name or a path), then render, one input, and only
// the flags it knows, each once, each valued one with a value that is not
// a flag, --no-headless alone. It returns the arguments after helios, or
// why not.
func Command(argv []string) (args []string, why string) {
	if len(argv) < 3 || filepath.Base(argv[0]) != "helios" || argv[1] != "render" {
		return nil, "not a helios render command"
	}
	seen := map[string]bool{}
	inputs := 0
	for i := 2; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--no-headless" || valued[a]:
			if seen[a] || a == "-o" && seen["--output"] || a == "--output" && seen["-o"] {
				return nil, "flag " + a + " given twice"
			}
			seen[a] = true
			if a == "--no-headless" {
				continue
			}
			if i+1 == len(argv) || strings.HasPrefix(argv[i+1], "-") || argv[i+1] == "" {
				return nil, "flag " + a + " without a value"
			}
			i++
		case strings.HasPrefix(a, "-"):
			return nil, "flag " + a + " is not one the warm renderer takes"
		case a == "":
			return nil, "an empty argument"
		default:
			inputs++
		}
	}
	if inputs != 1 {
		return nil, "not one input"
	}
	return argv[1:], ""
}
