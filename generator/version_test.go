package generator

import (
	"go/version"
	"os"
	"runtime/debug"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestVersionOf(t *testing.T) {
	const sum = "h1:Ra4+bf83h2ztPIQYNP99R6m+Y7KfnARDfID+a+vLl4s="
	other := debug.Module{Path: "golang.org/x/mod", Version: "v0.43.0", Sum: sum}
	user := debug.Module{Path: "example.com/farm", Version: "(devel)"}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"built in its own source tree", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}}, Devel},
		{"built in its own tree, VCS stamped", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v1.2.4-0.20260101120000-abcdef123456+dirty"}}, Devel},
		{"built in its own tree at a tag", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v1.2.3"}}, Devel},
		{"go run @version", debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v1.2.3", Sum: sum}, Deps: []*debug.Module{&other}}, "v1.2.3"},
		{"go tool in a user's module", debug.BuildInfo{Main: user, Deps: []*debug.Module{&other, {Path: ModulePath, Version: "v1.4.0", Sum: sum}}}, "v1.4.0"},
		{"pseudo-version dependency", debug.BuildInfo{Main: user, Deps: []*debug.Module{{Path: ModulePath, Version: "v0.0.0-20260101120000-abcdef123456", Sum: sum}}}, "v0.0.0-20260101120000-abcdef123456"},
		{"replaced by a directory", debug.BuildInfo{Main: user, Deps: []*debug.Module{{Path: ModulePath, Version: "v1.4.0", Replace: &debug.Module{Path: "../helios-scaffold", Version: "(devel)"}}}}, Devel},
		{"replaced by a fork", debug.BuildInfo{Main: user, Deps: []*debug.Module{{Path: ModulePath, Version: "v1.4.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.4.1", Sum: sum}}}}, Devel},
		{"dependency without version", debug.BuildInfo{Main: user, Deps: []*debug.Module{{Path: ModulePath, Version: "(devel)"}}}, Devel},
		{"dependency with empty version", debug.BuildInfo{Main: user, Deps: []*debug.Module{{Path: ModulePath}}}, Devel},
		{"not a dependency", debug.BuildInfo{Main: user, Deps: []*debug.Module{&other}}, Devel},
		{"no module information", debug.BuildInfo{}, Devel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(&tt.bi); got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGoVersionMatchesGoMod keeps GoVersion in step with this module's own
// go line, which is what users' modules must reach.
func TestGoVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil || f.Go == nil {
		t.Fatalf("parsing ../go.mod: %v", err)
	}
	if lang := version.Lang("go" + f.Go.Version); lang != "go"+GoVersion {
		t.Errorf("GoVersion = %s, but go.mod's go line %s is language %s", GoVersion, f.Go.Version, lang)
	}
}
