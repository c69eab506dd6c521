package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/filetree"
)

var update = flag.Bool("update", false, "rewrite the cmp golden files of testdata/script from the actual output")

// TestScript runs testdata/script/*.txtar. Besides testscript's own
// commands, the scripts have:
//
//	code N cmd args...   run cmd, failing unless it exits with status N
//	notmp DIR            fail if DIR holds a .helios-scaffold-*.tmp file
//	sorted DIR           print the files under DIR, sorted, to stdout
//	append FILE TEXT     append TEXT and a newline to FILE
//	edit FILE OLD NEW    replace every OLD in FILE with NEW; OLD must occur;
//	                     \n in OLD and NEW is a newline
//	forget DIR NAME      record, in DIR's answers, a hash for NAME that
//	                     nothing renders: what was last written is lost
//
// and the condition [root], true when running as root (for whom file
// modes do not stop writes).
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, ".home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOPROXY", "off")
			env.Setenv("GOTOOLCHAIN", "local")
			// No Google Cloud project from the machine: the scripts that
			// want one set it (project_lookup.txtar).
			env.Setenv("CLOUDSDK_CORE_PROJECT", "")
			env.Setenv("GOOGLE_CLOUD_PROJECT", "")
			env.Setenv("CLOUDSDK_CONFIG", filepath.Join(home, ".config", "gcloud"))
			return os.MkdirAll(home, 0o755)
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + strconv.Quote(cond))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"code":   cmdCode,
			"notmp":  cmdNoTmp,
			"sorted": cmdSorted,
			"append": cmdAppend,
			"edit":   cmdEdit,
			"forget": cmdForget,
		},
	})
}

// cmdCode runs a command and checks its exit status; stdout and stderr are
// kept for the stdout and stderr commands that follow.
func cmdCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: code N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("code: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdNoTmp fails when a temporary file of a run is left in the tree.
func cmdNoTmp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: notmp DIR")
	}
	root := ts.MkAbs(args[0])
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if filetree.IsTemp(d.Name()) {
			ts.Fatalf("temporary file left behind: %s", p)
		}
		return nil
	})
	ts.Check(err)
}

// cmdSorted prints every regular file under DIR, slash-separated and
// sorted, one a line.
func cmdSorted(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sorted DIR")
	}
	root := ts.MkAbs(args[0])
	var names []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	ts.Check(err)
	// WalkDir visits in lexical order already. Write even when there is
	// nothing, so that stdout is this listing, not an earlier command's.
	out := strings.Join(names, "\n")
	if out != "" {
		out += "\n"
	}
	_, err = io.WriteString(ts.Stdout(), out)
	ts.Check(err)
}

// cmdAppend appends a line to a file, as a user's edit would.
func cmdAppend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: append FILE TEXT")
	}
	name := ts.MkAbs(args[0])
	data, err := os.ReadFile(name)
	ts.Check(err)
	ts.Check(os.WriteFile(name, append(data, args[1]+"\n"...), 0o644))
}

// cmdEdit replaces text in a file, failing when the text is not there so
// that a script cannot silently edit nothing.
func cmdEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: edit FILE OLD NEW")
	}
	name := ts.MkAbs(args[0])
	data, err := os.ReadFile(name)
	ts.Check(err)
	old, new := strings.ReplaceAll(args[1], `\n`, "\n"), strings.ReplaceAll(args[2], `\n`, "\n")
	if !strings.Contains(string(data), old) {
		ts.Fatalf("edit: %s does not contain %q", args[0], old)
	}
	ts.Check(os.WriteFile(name, []byte(strings.ReplaceAll(string(data), old, new)), 0o644))
}

// cmdForget records a hash for a file that no content of it has, so that
// no base for a merge can be found.
func cmdForget(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: forget DIR NAME")
	}
	dir := ts.MkAbs(args[0])
	answers, err := generator.ReadAnswers(dir)
	ts.Check(err)
	if answers == nil || answers.Files[args[1]] == "" {
		ts.Fatalf("forget: %s records no %s", args[0], args[1])
	}
	answers.Files[args[1]] = generator.Hash([]byte("content that no render has"))
	ts.Check(os.WriteFile(filepath.Join(dir, generator.AnswersFile), answers.Marshal(), 0o644))
}
