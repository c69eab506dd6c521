package jobspec_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

type splitCase struct {
	name string
	in   string
	want []string
	err  error
}

var splitCases = []splitCase{
	// Words and blanks.
	{name: "plain words", in: "npx helios render", want: []string{"npx", "helios", "render"}},
	{name: "single word", in: "true", want: []string{"true"}},
	{name: "many blanks", in: "  a  \t b\n\n\tc   ", want: []string{"a", "b", "c"}},
	{name: "newline separates", in: "a\nb", want: []string{"a", "b"}},
	{name: "CRLF separates", in: "a\r\nb\r\n", want: []string{"a", "b"}},
	{name: "contract example", in: "npx helios render --start-frame 0 --frame-count 150 -o chunk_0.mp4",
		want: []string{"npx", "helios", "render", "--start-frame", "0", "--frame-count", "150", "-o", "chunk_0.mp4"}},

	// Single quotes.
	{name: "single quotes keep blanks", in: "echo 'a  b\tc'", want: []string{"echo", "a  b\tc"}},
	{name: "single quotes keep backslash", in: `'a\b\'`, want: []string{`a\b\`}},
	{name: "single quotes keep double quote", in: `'say "hi"'`, want: []string{`say "hi"`}},
	{name: "single quotes keep dollar", in: `'$HOME' '*'`, want: []string{"$HOME", "*"}},
	{name: "single quotes keep newline", in: "'a\nb'", want: []string{"a\nb"}},

	// Double quotes.
	{name: "double quotes keep blanks", in: `echo "a  b"`, want: []string{"echo", "a  b"}},
	{name: "double quotes keep tab and newline", in: "x \"a\tb\nc\"", want: []string{"x", "a\tb\nc"}},
	{name: "double quotes keep single quote", in: `"it's"`, want: []string{"it's"}},
	{name: "double quotes escape dollar", in: `"\$HOME"`, want: []string{"$HOME"}},
	{name: "double quotes escape backquote", in: "\"\\`x\\`\"", want: []string{"`x`"}},
	{name: "double quotes escape quote", in: `"a\"b"`, want: []string{`a"b`}},
	{name: "double quotes escape backslash", in: `"a\\b"`, want: []string{`a\b`}},
	{name: "double quotes line continuation", in: "\"a\\\nb\"", want: []string{"ab"}},
	{name: "double quotes keep other backslash", in: `"\a\n\'\ "`, want: []string{`\a\n\'\ `}},
	{name: "double quotes dollar literal", in: `"$VAR"`, want: []string{"$VAR"}},

	// Backslash outside quotes.
	{name: "escaped blank", in: `a\ b c`, want: []string{"a b", "c"}},
	{name: "escaped quotes", in: `\'x\"`, want: []string{`'x"`}},
	{name: "escaped backslash", in: `a\\b`, want: []string{`a\b`}},
	{name: "escaped letter", in: `\a\b`, want: []string{"ab"}},
	{name: "escaped dollar", in: `\$HOME`, want: []string{"$HOME"}},
	{name: "escaped tab", in: "a\\\tb", want: []string{"a\tb"}},
	{name: "line continuation in word", in: "ab\\\ncd", want: []string{"abcd"}},
	{name: "line continuation between words", in: "a \\\n b", want: []string{"a", "b"}},
	{name: "line continuation alone", in: "\\\n", err: jobspec.ErrEmptyCommand},

	// Empty arguments and concatenation.
	{name: "empty single quotes", in: "''", want: []string{""}},
	{name: "empty double quotes", in: `""`, want: []string{""}},
	{name: "empty args between words", in: `a '' b ''`, want: []string{"a", "", "b", ""}},
	{name: "empty double quotes last", in: `a ""`, want: []string{"a", ""}},
	{name: "adjacent parts concatenated", in: `a'b'"c"`, want: []string{"abc"}},
	{name: "adjacent parts with blanks", in: `x'c d'\ e"a b"`, want: []string{"xc d ea b"}},
	{name: "empty single quotes inside word", in: `a''b`, want: []string{"ab"}},

	// A closing double quote followed by anything.
	{name: "double quotes then word", in: `echo "a  b" c`, want: []string{"echo", "a  b", "c"}},
	{name: "double quotes then text", in: `"a"b`, want: []string{"ab"}},
	{name: "empty double quotes between words", in: `a "" b`, want: []string{"a", "", "b"}},
	{name: "empty double quotes inside word", in: `a""bc`, want: []string{"abc"}},
	{name: "double then single quotes", in: `"a b"'c d'`, want: []string{"a bc d"}},
	{name: "contract merge command", in: `ffmpeg -i "in put.txt" -c copy out.mp4`,
		want: []string{"ffmpeg", "-i", "in put.txt", "-c", "copy", "out.mp4"}},

	// Nothing else is interpreted.
	{name: "variable literal", in: "echo $VAR ${X}", want: []string{"echo", "$VAR", "${X}"}},
	{name: "glob literal", in: "ls * ?.txt [ab]", want: []string{"ls", "*", "?.txt", "[ab]"}},
	{name: "pipe literal", in: "a | b", want: []string{"a", "|", "b"}},
	{name: "semicolon literal", in: "a; b;c", want: []string{"a;", "b;c"}},
	{name: "redirection literal", in: "a > out 2>&1 <in", want: []string{"a", ">", "out", "2>&1", "<in"}},
	{name: "substitution literal", in: "echo $(id) `id` ~ #x", want: []string{"echo", "$(id)", "`id`", "~", "#x"}},
	{name: "non-ASCII", in: "rendu 'vidéo 😀'", want: []string{"rendu", "vidéo 😀"}},

	// Errors.
	{name: "unterminated single", in: "echo 'abc", err: jobspec.ErrUnterminated},
	{name: "unterminated single alone", in: "'", err: jobspec.ErrUnterminated},
	{name: "unterminated double", in: `echo "abc`, err: jobspec.ErrUnterminated},
	{name: "unterminated double alone", in: `"`, err: jobspec.ErrUnterminated},
	{name: "unterminated double escaped quote", in: `"abc\"`, err: jobspec.ErrUnterminated},
	{name: "unterminated double trailing backslash", in: `"abc\`, err: jobspec.ErrUnterminated},
	{name: "trailing backslash", in: `echo abc\`, err: jobspec.ErrTrailingBackslash},
	{name: "backslash alone", in: `\`, err: jobspec.ErrTrailingBackslash},
	{name: "empty", in: "", err: jobspec.ErrEmptyCommand},
	{name: "blank only", in: " \t\n\r ", err: jobspec.ErrEmptyCommand},
}

func TestSplitCommand(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jobspec.SplitCommand(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("SplitCommand(%q) = %q, %v; want error %v", tc.in, got, err, tc.err)
				}
				if got != nil {
					t.Errorf("SplitCommand(%q) returned args %q with an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitCommand(%q): unexpected error %v", tc.in, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SplitCommand(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// isBlank is the set of word separators SplitCommand uses: the documented
// space, tab and newline, plus carriage return.
func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// singleQuote quotes s for a POSIX shell with single quotes.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func FuzzSplitCommand(f *testing.F) {
	for _, tc := range splitCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args, err := jobspec.SplitCommand(in)
		if err != nil {
			if !errors.Is(err, jobspec.ErrEmptyCommand) && !errors.Is(err, jobspec.ErrUnterminated) &&
				!errors.Is(err, jobspec.ErrTrailingBackslash) {
				t.Fatalf("SplitCommand(%q): undocumented error %v", in, err)
			}
			if args != nil {
				t.Fatalf("SplitCommand(%q) returned args %q with error %v", in, args, err)
			}
			if !strings.ContainsAny(in, `'"\`) && strings.IndexFunc(in, func(r rune) bool { return !isBlank(r) }) >= 0 {
				t.Fatalf("SplitCommand(%q) failed on a plain command: %v", in, err)
			}
			return
		}
		if len(args) == 0 {
			t.Fatalf("SplitCommand(%q) returned no args and no error", in)
		}
		if !strings.ContainsAny(in, `'"\`) {
			if want := strings.FieldsFunc(in, isBlank); !slices.Equal(args, want) {
				t.Fatalf("SplitCommand(%q) = %q, want the blank-separated fields %q", in, args, want)
			}
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = singleQuote(a)
		}
		requoted := strings.Join(quoted, " ")
		again, err := jobspec.SplitCommand(requoted)
		if err != nil {
			t.Fatalf("SplitCommand(%q) (requoted from %q): %v", requoted, in, err)
		}
		if !slices.Equal(again, args) {
			t.Fatalf("requoting %q: SplitCommand(%q) = %q, want %q", in, requoted, again, args)
		}
	})
}
