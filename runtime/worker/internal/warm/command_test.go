package warm

import (
	"slices"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	emitted := "helios render composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150 --width 1280 --height 720 --fps 30 --mode canvas"
	for _, tc := range []struct {
		cmd, why string // why "" when taken
	}{
		{emitted, ""},
		{"/opt/helios/node_modules/.bin/helios render c.html -o o.mp4", ""},
		{"helios render c.html --quality 23 --duration 2 --concurrency 1 --audio-codec aac --video-codec libx264 --no-headless --output o.mp4", ""},
		{"helios render https://example.com/c.html -o o.mp4", ""},
		{"helios merge out.mp4 a.mp4 b.mp4", "not a helios render command"},
		{"npx helios render c.html", "not a helios render command"},
		{"helios render", "not a helios render command"},
		{"helios render c.html --emit-job job.json", "flag --emit-job is not one"},
		{"helios render c.html --width=1280", "flag --width=1280 is not one"},
		{"helios render c.html --base-url http://x", "flag --base-url is not one"},
		{"helios render c.html -o a.mp4 -o b.mp4", "flag -o given twice"},
		{"helios render c.html -o a.mp4 --output b.mp4", "flag --output given twice"},
		{"helios render c.html -o", "flag -o without a value"},
		{"helios render c.html -o --mode", "flag -o without a value"},
		{"helios render c.html d.html", "not one input"},
		{"helios render -o a.mp4", "not one input"},
		{"helios render c.html --no-headless --no-headless", "flag --no-headless given twice"},
	} {
		args, why := Command(strings.Fields(tc.cmd))
		switch {
		case tc.why == "" && (why != "" || !slices.Equal(args, strings.Fields(tc.cmd)[1:])):
			t.Errorf("%q: %v, %q; want taken", tc.cmd, args, why)
		case tc.why != "" && (args != nil || !strings.HasPrefix(why, tc.why)):
			t.Errorf("%q: %v, %q; want refused: %q", tc.cmd, args, why, tc.why)
		}
	}
}

// Whatever the words, Command takes only what it can hand over: helios,
// render, one input, known flags with values.
func FuzzCommand(f *testing.F) {
	f.Add("helios render composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150")
	f.Add("helios render c.html --no-headless -o")
	f.Fuzz(func(t *testing.T, cmd string) {
		argv := strings.Split(cmd, " ")
		args, why := Command(argv)
		if (args == nil) == (why == "") {
			t.Fatalf("%q: args %v and why %q", cmd, args, why)
		}
		if args == nil {
			return
		}
		if args[0] != "render" || len(args) != len(argv)-1 {
			t.Fatalf("%q: args %v", cmd, args)
		}
		for i := 1; i < len(args); i++ {
			if strings.HasPrefix(args[i], "-") && args[i] != "--no-headless" && !valued[args[i]] {
				t.Fatalf("%q: took flag %q", cmd, args[i])
			}
			if valued[args[i]] {
				i++ // its value
			}
		}
	})
}
