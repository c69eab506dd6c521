package generator_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/helios-project/helios-scaffold/generator"
)

// otherGoMod is a user's go.mod with lines that an edit must keep.
const otherGoMod = `// The render farm's workers.
module example.com/farm

go 1.21

toolchain go1.26.1

require (
	golang.org/x/text v0.21.0 // pinned: see issue 12
	rsc.io/quote v1.5.2
)

require golang.org/x/sys v0.30.0 // indirect

replace rsc.io/quote => ../quote

tool golang.org/x/tools/cmd/stringer
`

func TestEditGoModNew(t *testing.T) {
	edit, err := generator.EditGoMod(nil, generator.Inputs{Module: "example.com/render"}, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	want := "module example.com/render\n\ngo " + generator.GoVersion + "\n\n" +
		"require " + generator.ModulePath + " v1.2.3\n\n" +
		"tool " + generator.ModulePath + "\n"
	if string(edit.Data) != want {
		t.Errorf("new go.mod:\n%s\nwant:\n%s", edit.Data, want)
	}
	if edit.Module != "example.com/render" || len(edit.Notes) != 0 {
		t.Errorf("Module, Notes = %q, %q; want example.com/render and no notes", edit.Module, edit.Notes)
	}
}

func TestEditGoMod(t *testing.T) {
	const mp = generator.ModulePath
	tests := []struct {
		name     string
		old      string // "" for no go.mod
		in       generator.Inputs
		version  string
		wantErr  []error
		wantReq  string   // the version of mp required
		contains []string // lines the result keeps or gains
		absent   []string
		notes    []string // substrings, one per note
	}{
		{name: "no go.mod, no module", version: "v1.2.3", wantErr: []error{generator.ErrNoModule}},
		{name: "invalid module path", in: generator.Inputs{Module: "example.com/bad path"}, version: "v1.2.3", wantErr: []error{generator.ErrInput}},
		{name: "module is helios-scaffold itself", in: generator.Inputs{Module: mp}, version: "v1.2.3", wantErr: []error{generator.ErrInput}},
		{name: "go.mod of helios-scaffold itself", old: "module " + mp + "\n\ngo 1.26\n", version: "v1.2.3", wantErr: []error{generator.ErrInput}},
		{name: "parse error", old: "module example.com/farm\n\nrequire (\n", version: "v1.2.3", wantErr: []error{generator.ErrBadGoMod}},
		{name: "bad directive", old: "module example.com/farm\nfrobnicate x\n", version: "v1.2.3", wantErr: []error{generator.ErrBadGoMod}},
		{name: "no module line", old: "go 1.26\n", version: "v1.2.3", wantErr: []error{generator.ErrBadGoMod}},
		{name: "empty go.mod", old: "\n", version: "v1.2.3", wantErr: []error{generator.ErrBadGoMod}},
		{name: "devel without require or replace", old: "module example.com/farm\n", version: generator.Devel, wantErr: []error{generator.ErrNoVersion}},
		{
			name: "replace not a directory path", old: "module example.com/farm\n", version: generator.Devel,
			in: generator.Inputs{ReplaceRuntime: "helios-scaffold"}, wantErr: []error{generator.ErrInput},
		},
		{
			name: "keeps the rest of another module's go.mod", old: otherGoMod, version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{
				"// The render farm's workers.", "module example.com/farm", "toolchain go1.26.1",
				"golang.org/x/text v0.21.0 // pinned: see issue 12", "rsc.io/quote v1.5.2",
				"golang.org/x/sys v0.30.0 // indirect", "replace rsc.io/quote => ../quote",
				"golang.org/x/tools/cmd/stringer", mp,
			},
			notes: []string{"raised the go line from 1.21 to " + generator.GoVersion},
		},
		{
			name: "go line lower is raised", old: "module example.com/farm\n\ngo 1.21\n", version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{"go " + generator.GoVersion + "\n"}, absent: []string{"go 1.21"},
			notes: []string{"raised the go line from 1.21 to " + generator.GoVersion + ", which " + mp + " needs"},
		},
		{
			name: "go line higher is kept", old: "module example.com/farm\n\ngo 1.27\n", version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{"go 1.27\n"}, absent: []string{"go " + generator.GoVersion + "\n"},
		},
		{
			name: "go line with patch is kept", old: "module example.com/farm\n\ngo " + generator.GoVersion + ".3\n", version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{"go " + generator.GoVersion + ".3\n"},
		},
		{
			name: "no go line gets one", old: "module example.com/farm\n", version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{"go " + generator.GoVersion + "\n"},
		},
		{
			name: "toolchain line kept", old: "module example.com/farm\n\ngo 1.27\n\ntoolchain go1.27.2\n", version: "v1.2.3", wantReq: "v1.2.3",
			contains: []string{"toolchain go1.27.2\n"},
		},
		{
			name: "released version replaces the required one", old: "module example.com/farm\n\ngo 1.26\n\nrequire " + mp + " v1.0.0\n",
			version: "v1.2.3", wantReq: "v1.2.3", absent: []string{"v1.0.0"},
		},
		{
			name: "an older helios-scaffold lowers the requirement, and says so", old: "module example.com/farm\n\ngo 1.26\n\nrequire " + mp + " v1.3.0\n",
			version: "v1.2.3", wantReq: "v1.2.3", notes: []string{"lowered " + mp + " from v1.3.0 to v1.2.3"},
		},
		{
			name: "devel keeps the required version", old: "module example.com/farm\n\ngo 1.26\n\nrequire " + mp + " v1.1.0\n",
			version: generator.Devel, wantReq: "v1.1.0",
		},
		{
			name: "devel with replace and a require keeps the require", old: "module example.com/farm\n\ngo 1.26\n\nrequire " + mp + " v1.1.0\n",
			in: generator.Inputs{ReplaceRuntime: "../helios-scaffold"}, version: generator.Devel, wantReq: "v1.1.0",
			contains: []string{"replace " + mp + " => ../helios-scaffold\n"},
		},
		{
			name: "devel with replace", old: "module example.com/farm\n", version: generator.Devel,
			in: generator.Inputs{ReplaceRuntime: "../helios-scaffold"}, wantReq: "v0.0.0-00010101000000-000000000000",
			contains: []string{"replace " + mp + " => ../helios-scaffold\n"},
		},
		{
			name: "replace updated, not duplicated", old: "module example.com/farm\n\nreplace " + mp + " => ../old\n", version: "v1.2.3",
			in: generator.Inputs{ReplaceRuntime: "/src/helios-scaffold"}, wantReq: "v1.2.3",
			contains: []string{"replace " + mp + " => /src/helios-scaffold\n"}, absent: []string{"../old"},
		},
		{
			name: "module flag differs", old: "module example.com/farm\n", version: "v1.2.3",
			in: generator.Inputs{Module: "example.com/other"}, wantReq: "v1.2.3", contains: []string{"module example.com/farm\n"},
			notes: []string{"--module example.com/other ignored: go.mod declares module example.com/farm"},
		},
		{name: "module flag same", old: "module example.com/farm\n", in: generator.Inputs{Module: "example.com/farm"}, version: "v1.2.3", wantReq: "v1.2.3"},
		{
			name: "tool already there is not repeated", old: "module example.com/farm\n\ngo 1.26\n\nrequire " + mp + " v1.0.0\n\ntool " + mp + "\n",
			version: "v1.2.3", wantReq: "v1.2.3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old []byte
			if tt.old != "" {
				old = []byte(tt.old)
			}
			edit, err := generator.EditGoMod(old, tt.in, tt.version)
			if len(tt.wantErr) > 0 {
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("EditGoMod error = %v, want %v", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("EditGoMod: %v", err)
			}
			out := string(edit.Data)
			f, err := modfile.Parse("go.mod", edit.Data, nil)
			if err != nil {
				t.Fatalf("the edited go.mod does not parse: %v\n%s", err, out)
			}
			if got := requireOf(f, mp); got != tt.wantReq {
				t.Errorf("requires %s %q, want %q\n%s", mp, got, tt.wantReq, out)
			}
			if n := strings.Count(out, "tool "+mp+"\n") + strings.Count(out, "\t"+mp+"\n"); n != 1 {
				t.Errorf("%s is a tool %d times, want once\n%s", mp, n, out)
			}
			if f.Module.Mod.Path != edit.Module {
				t.Errorf("Module = %q, go.mod says %q", edit.Module, f.Module.Mod.Path)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("edited go.mod lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("edited go.mod still has %q:\n%s", s, out)
				}
			}
			if len(edit.Notes) != len(tt.notes) {
				t.Errorf("notes = %q, want %d", edit.Notes, len(tt.notes))
			}
			for i := range min(len(edit.Notes), len(tt.notes)) {
				if !strings.Contains(edit.Notes[i], tt.notes[i]) {
					t.Errorf("note %q does not contain %q", edit.Notes[i], tt.notes[i])
				}
			}

			// Editing the result again changes nothing and tells nothing.
			again, err := generator.EditGoMod(edit.Data, tt.in, tt.version)
			if err != nil {
				t.Fatalf("editing the edited go.mod: %v", err)
			}
			if !bytes.Equal(again.Data, edit.Data) {
				t.Errorf("second edit differs:\n%s\nfirst:\n%s", again.Data, edit.Data)
			}
			if tt.in.Module == "" && len(again.Notes) != 0 {
				t.Errorf("second edit notes %q, want none", again.Notes)
			}
		})
	}
}

func requireOf(f *modfile.File, path string) string {
	v := ""
	for _, r := range f.Require {
		if r.Mod.Path == path {
			if v != "" {
				return "required twice"
			}
			v = r.Mod.Version
		}
	}
	return v
}

func TestReplaceDirInRepo(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"", ""},
		{"./third_party/helios-scaffold", "third_party/helios-scaffold"},
		{"third_party/hs/", "third_party/hs"},
		{"./a/../b", "b"},
		{".", ""},
		{"./", ""},
		{"..", ""},
		{"../helios", ""},
		{"./a/../../helios", ""},
		{"/abs/helios", ""},
		{"..helios/x", "..helios/x"}, // a folder named ..helios is inside
	}
	for _, tt := range tests {
		if got := generator.ReplaceDirInRepo(tt.dir); got != tt.want {
			t.Errorf("ReplaceDirInRepo(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}
