package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/helios-project/helios-scaffold/generator"
)

// templateChange is what v0.2.0 of the module under test adds to its SAM
// template, below the header comment.
const templateChange = "# v0.2.0: a line the newer templates add\n"

// TestUpgradeMergesEdits plays an upgrade, offline: a project scaffolded by
// helios-scaffold v0.1.0 (this tree), whose template.yaml the user edited,
// takes v0.2.0 (this tree with one template changed) from a local module
// proxy, then runs go generate ./... The merge's base is v0.1.0's render,
// which v0.2.0 finds by running v0.1.0's render subcommand from the module
// cache: the user's edit and the template change both land.
func TestUpgradeMergesEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two versions of the CLI from a local module proxy; skipped with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("merging needs git")
	}
	root, _ := filepath.Abs(".")
	base := t.TempDir()
	proxy := filepath.Join(base, "proxy")
	files := moduleFiles(t, root)
	publish(t, proxy, "v0.1.0", files, nil)
	publish(t, proxy, "v0.2.0", files, map[string]func([]byte) []byte{
		"templates/aws/template.yaml.tmpl": func(b []byte) []byte {
			return bytes.Replace(b, []byte("AWSTemplateFormatVersion:"), []byte(templateChange+"AWSTemplateFormatVersion:"), 1)
		},
	})
	env := offlineGoEnv(t, base, proxy)

	proj := filepath.Join(base, "proj")
	run(t, base, env, "go", "run", generator.ModulePath+"@v0.1.0", "init", "aws", "--dir", proj, "--module", "example.com/upgraded")
	tmpl := filepath.Join(proj, "template.yaml")
	edited := strings.Replace(readString(t, tmpl), "      Description: Runs one chunk", "      Tags:\n        team: video\n      Description: Runs one chunk", 1)
	writeFile(t, tmpl, edited)

	run(t, proj, env, "go", "get", generator.ModulePath+"@v0.2.0")
	out := run(t, proj, env, "go", "generate", "./...")
	if !strings.Contains(out, "merge       template.yaml: your edit and the new render, merged (from helios-scaffold v0.1.0's render of the recorded inputs)") {
		t.Errorf("go generate did not merge template.yaml from v0.1.0's render:\n%s", out)
	}
	got := readString(t, tmpl)
	if !strings.Contains(got, "        team: video\n") || !strings.Contains(got, templateChange) {
		t.Errorf("template.yaml after the upgrade lacks the user's edit or the template change:\n%s", got)
	}
	if answers := readString(t, filepath.Join(proj, generator.AnswersFile)); !strings.Contains(answers, `"version": "v0.2.0"`) {
		t.Errorf("the answers do not record v0.2.0:\n%s", answers)
	}
}

// moduleFiles lists the module's files as git tracks them (the working
// tree's content), leaving out what the module zip would leave out.
func moduleFiles(t *testing.T, root string) []string {
	t.Helper()
	out := run(t, root, nil, "git", "ls-files", "-z")
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

// publish writes version of the module, with files of root changed by
// edits, into a GOPROXY directory.
func publish(t *testing.T, proxy, version string, files []string, edits map[string]func([]byte) []byte) {
	t.Helper()
	root, _ := filepath.Abs(".")
	dir := filepath.Join(proxy, generator.ModulePath, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var zfiles []modzip.File
	for _, name := range files {
		zfiles = append(zfiles, zipFile{root: root, name: name, edit: edits[name]})
	}
	var zbuf bytes.Buffer
	if err := modzip.Create(&zbuf, module.Version{Path: generator.ModulePath, Version: version}, zfiles); err != nil {
		t.Fatalf("zipping %s: %v", version, err)
	}
	writeFile(t, filepath.Join(dir, version+".zip"), zbuf.String())
	writeFile(t, filepath.Join(dir, version+".mod"), readString(t, filepath.Join(root, "go.mod")))
	writeFile(t, filepath.Join(dir, version+".info"), fmt.Sprintf(`{"Version":%q,"Time":"2026-11-29T00:00:00Z"}`, version))
	list, _ := os.ReadFile(filepath.Join(dir, "list"))
	writeFile(t, filepath.Join(dir, "list"), string(list)+version+"\n")
}

// zipFile is a file of the working tree, possibly edited, for a module zip.
type zipFile struct {
	root, name string
	edit       func([]byte) []byte
}

func (f zipFile) Path() string { return f.name }

func (f zipFile) Lstat() (os.FileInfo, error) {
	fi, err := os.Lstat(filepath.Join(f.root, f.name))
	if err != nil || f.edit == nil {
		return fi, err
	}
	data, err := f.data()
	return sizedInfo{fi, int64(len(data))}, err
}

func (f zipFile) Open() (io.ReadCloser, error) {
	data, err := f.data()
	return io.NopCloser(bytes.NewReader(data)), err
}

func (f zipFile) data() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(f.root, f.name))
	if err == nil && f.edit != nil {
		data = f.edit(data)
	}
	return data, err
}

// sizedInfo is a file's information with the size of its edited content.
type sizedInfo struct {
	os.FileInfo
	size int64
}

func (i sizedInfo) Size() int64 { return i.size }

// offlineGoEnv is an environment in which the go command reaches no
// network: this module from the local proxy, its dependencies from the
// download cache of the machine's module cache (itself a GOPROXY tree),
// into a module cache of the test's own.
func offlineGoEnv(t *testing.T, base, proxy string) []string {
	t.Helper()
	cache := strings.TrimSpace(run(t, base, nil, "go", "env", "GOMODCACHE"))
	return []string{
		"GOPROXY=file://" + proxy + ",file://" + filepath.Join(cache, "cache", "download") + ",off",
		"GOMODCACHE=" + filepath.Join(base, "modcache"),
		"GOFLAGS=-modcacherw -mod=mod",
		"GOSUMDB=off",
		"GONOSUMDB=*",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	}
}

// run runs a command in dir with env added, within five minutes, failing
// the test on error; it returns the combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
