package generator

import (
	"errors"
	"fmt"
	"go/version"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// GoVersion is the Go language version (the go line's major.minor) of
// this module's go.mod. A user's go.mod is raised to it when lower, because
// the go command refuses a dependency that needs a newer Go than the main
// module declares; go mod tidy then raises it to the exact patch release
// the dependencies declare, which later runs leave alone.
const GoVersion = "1.26"

// develRequire is the version required of this module when it is replaced
// by a local checkout and the running helios-scaffold has no version.
const develRequire = "v0.0.0-00010101000000-000000000000"

// Sentinel errors of go.mod handling.
var (
	ErrNoModule  = errors.New("no go.mod and no --module")
	ErrBadGoMod  = errors.New("go.mod does not parse")
	ErrNoVersion = errors.New("helios-scaffold is a development build and go.mod does not require it")
)

// GoModEdit is the result of editing a go.mod.
type GoModEdit struct {
	Data   []byte
	Module string   // the module path declared
	Notes  []string // what changed that the user should know
}

// EditGoMod returns go.mod edited, with golang.org/x/mod/modfile, to
// require this module at version, to run helios-scaffold as a tool, and to
// replace this module when in.ReplaceRuntime is set. With old nil, a new
// go.mod for in.Module is made. The rest of an existing file is kept.
func EditGoMod(old []byte, in Inputs, version string) (GoModEdit, error) {
	var edit GoModEdit
	f, err := parseOrNewGoMod(old, in.Module)
	if err != nil {
		return edit, err
	}
	edit.Module = f.Module.Mod.Path
	if old != nil && in.Module != "" && in.Module != edit.Module {
		edit.Notes = append(edit.Notes, fmt.Sprintf("--module %s ignored: go.mod declares module %s", in.Module, edit.Module))
	}
	if edit.Module == ModulePath {
		return edit, inputErrorf("%s is helios-scaffold's own module; scaffold another repository", ModulePath)
	}
	if f.Go == nil || goLess(f.Go.Version, GoVersion) {
		if f.Go != nil {
			edit.Notes = append(edit.Notes, fmt.Sprintf("raised the go line from %s to %s, which %s needs", f.Go.Version, GoVersion, ModulePath))
		}
		if err := f.AddGoStmt(GoVersion); err != nil {
			return edit, fmt.Errorf("setting the go line: %w", err)
		}
	}
	req, err := requiredVersion(f, in, version)
	if err != nil {
		return edit, err
	}
	for _, r := range f.Require {
		if r.Mod.Path == ModulePath && semver.Compare(req, r.Mod.Version) < 0 {
			edit.Notes = append(edit.Notes, fmt.Sprintf("lowered %s from %s to %s, the version of this helios-scaffold", ModulePath, r.Mod.Version, req))
		}
	}
	if err := f.AddRequire(ModulePath, req); err != nil {
		return edit, fmt.Errorf("requiring %s %s: %w", ModulePath, req, err)
	}
	if err := f.AddTool(ModulePath); err != nil {
		return edit, fmt.Errorf("adding the tool directive: %w", err)
	}
	if in.ReplaceRuntime != "" {
		if !modfile.IsDirectoryPath(in.ReplaceRuntime) {
			return edit, inputErrorf("--replace-runtime %q: want a directory path, absolute or starting with ./ or ../, as go.mod reads any other path as a module path", in.ReplaceRuntime)
		}
		if err := f.AddReplace(ModulePath, "", in.ReplaceRuntime, ""); err != nil {
			return edit, fmt.Errorf("adding the replace directive: %w", err)
		}
	}
	f.Cleanup()
	if edit.Data, err = f.Format(); err != nil {
		return edit, fmt.Errorf("formatting go.mod: %w", err)
	}
	return edit, nil
}

func parseOrNewGoMod(old []byte, modPath string) (*modfile.File, error) {
	if old == nil {
		if modPath == "" {
			return nil, fmt.Errorf("%w: pass --module with the new module's path", ErrNoModule)
		}
		if err := module.CheckImportPath(modPath); err != nil {
			return nil, inputErrorf("--module: %v", err)
		}
		f := new(modfile.File)
		if err := f.AddModuleStmt(modPath); err != nil {
			return nil, fmt.Errorf("adding the module line: %w", err)
		}
		return f, nil
	}
	f, err := modfile.Parse("go.mod", old, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadGoMod, err)
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%w: no module line", ErrBadGoMod)
	}
	return f, nil
}

// requiredVersion is the version of this module go.mod should require: the
// running helios-scaffold's own, or for a development build the one already
// required, or a placeholder that the replace directive stands in for.
func requiredVersion(f *modfile.File, in Inputs, version string) (string, error) {
	if version != Devel {
		return version, nil
	}
	for _, r := range f.Require {
		if r.Mod.Path == ModulePath {
			return r.Mod.Version, nil
		}
	}
	if in.ReplaceRuntime != "" {
		return develRequire, nil
	}
	return "", fmt.Errorf("%w: pass --replace-runtime with a checkout of %s, or run a released version (go run %s@latest)", ErrNoVersion, ModulePath, ModulePath)
}

// goLess reports whether go line a is older than b.
func goLess(a, b string) bool {
	return version.Compare("go"+a, "go"+b) < 0
}

// ReplaceDirInRepo returns dir, a replace target relative to the repository
// (as --replace-runtime takes it), clean and slash-separated, when it names
// a folder inside the repository; otherwise "": an absolute path, one that
// leaves the repository, or the repository itself. Only a folder inside the
// repository is in the build context of docker build and sam build.
func ReplaceDirInRepo(dir string) string {
	if dir == "" || filepath.IsAbs(dir) || path.IsAbs(filepath.ToSlash(dir)) {
		return ""
	}
	clean := path.Clean(filepath.ToSlash(dir))
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return ""
	}
	return clean
}

// replaceNotes says what the image build cannot see of a replace directive
// of this module in the go.mod data: a folder outside the repository, or
// one inside it that --replace-runtime does not name, so that the
// Dockerfile does not copy it before go mod download.
func replaceNotes(data []byte, in Inputs) []string {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil
	}
	for _, r := range f.Replace {
		if r.Old.Path != ModulePath || !modfile.IsDirectoryPath(r.New.Path) {
			continue
		}
		inRepo := ReplaceDirInRepo(r.New.Path)
		switch {
		case inRepo == "":
			return []string{fmt.Sprintf("go.mod replaces %s with %s, outside the repository: docker build and sam build "+
				"see only the repository, so the image's go mod download fails. Put the checkout inside the repository "+
				"(for example ./third_party/helios-scaffold) and pass it as --replace-runtime: the Dockerfile then copies it", ModulePath, r.New.Path)}
		case inRepo != ReplaceDirInRepo(in.ReplaceRuntime):
			return []string{fmt.Sprintf("go.mod replaces %s with ./%s, which the Dockerfile does not copy before go mod download; "+
				"pass --replace-runtime ./%s so that it does", ModulePath, inRepo, inRepo)}
		}
	}
	return nil
}
