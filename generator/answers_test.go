package generator_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// sampleAnswers returns valid answers recording six files.
func sampleAnswers() generator.Answers {
	in := validInputs(generator.AWS)
	in.Module = "example.com/farm"
	return generator.Answers{
		Version: "v1.2.3",
		Inputs:  in,
		Files: map[string]string{
			"template.yaml":         generator.Hash([]byte("template")),
			"cmd/worker/main.go":    generator.Hash([]byte("main")),
			".dockerignore":         generator.Hash(nil),
			"cmd/worker/worker.go":  generator.Hash([]byte("worker")),
			"Dockerfile":            generator.Hash([]byte("FROM scratch\n")),
			"deploy/a/b/c/notes.md": generator.Hash([]byte("notes")),
		},
	}
}

func TestAnswersRoundTrip(t *testing.T) {
	cr := validInputs(generator.CloudRun)
	cr.ServiceAccount, cr.JobBucket = "worker@my-project.iam.gserviceaccount.com", "jobs"
	sf := validInputs(generator.AWS)
	withStateMachine(&sf)
	sf.MaxConcurrency = 250
	for _, a := range []generator.Answers{
		sampleAnswers(),
		{Version: generator.Devel, Inputs: cr, Files: map[string]string{}},
		{Version: "v0.1.0", Inputs: validInputs(generator.AWS)},
		{Version: "v0.2.0", Inputs: sf},
	} {
		data := a.Marshal()
		got, err := generator.ParseAnswers(data)
		if err != nil {
			t.Fatalf("ParseAnswers(Marshal()) = %v\n%s", err, data)
		}
		if !reflect.DeepEqual(*got, a) {
			t.Errorf("round trip = %+v, want %+v", *got, a)
		}
	}
}

func TestAnswersMarshalDeterministic(t *testing.T) {
	a := sampleAnswers()
	first := a.Marshal()
	for range 20 {
		b := sampleAnswers() // a new map, iterated in another order
		if got := b.Marshal(); !bytes.Equal(got, first) {
			t.Fatalf("Marshal differs between runs:\n%s\n%s", got, first)
		}
	}
	s := string(first)
	if !strings.HasPrefix(s, "{\n  \"version\": \"v1.2.3\",\n  \"inputs\": {") || !strings.HasSuffix(s, "}\n") {
		t.Errorf("Marshal is not indented JSON ending in a newline:\n%s", s)
	}
	last := -1
	for _, p := range []string{".dockerignore", "Dockerfile", "cmd/worker/main.go", "cmd/worker/worker.go", "deploy/a/b/c/notes.md", "template.yaml"} {
		i := strings.Index(s, `"`+p+`"`)
		if i < last {
			t.Errorf("file %s is out of sorted order in\n%s", p, s)
		}
		last = i
	}
}

func TestParseAnswersRejects(t *testing.T) {
	valid := sampleAnswers().Marshal()
	withFile := func(p, h string) []byte {
		a := sampleAnswers()
		a.Files[p] = h
		return a.Marshal()
	}
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("version: v1.2.3\n")},
		{"JSON array", []byte("[]")},
		{"null", []byte("null")},
		{"truncated", valid[:len(valid)/2]},
		{"truncated at the end", valid[:len(valid)-2]},
		{"unknown field", bytes.Replace(valid, []byte(`"version"`), []byte(`"color": "red", "version"`), 1)},
		{"unknown input field", bytes.Replace(valid, []byte(`"inputs": {`), []byte(`"inputs": {"flavor": 1,`), 1)},
		{"wrong type", bytes.Replace(valid, []byte(`"timeoutSeconds": 900`), []byte(`"timeoutSeconds": "900"`), 1)},
		{"trailing object", append(bytes.Clone(valid), "{}"...)},
		{"trailing brace", append(bytes.Clone(valid), "}"...)},
		{"trailing bracket", append(bytes.Clone(valid), "]\n"...)},
		{"trailing text", append(bytes.Clone(valid), "x"...)},
		{"missing version", func() []byte { a := sampleAnswers(); a.Version = ""; return a.Marshal() }()},
		{"invalid inputs", func() []byte { a := sampleAnswers(); a.Inputs.TimeoutSeconds = 0; return a.Marshal() }()},
		{"unknown target", func() []byte { a := sampleAnswers(); a.Inputs.Target = "azure"; return a.Marshal() }()},
		{"hash without sha256 prefix", withFile("x", hex64)},
		{"hash of another algorithm", withFile("x", "md5:"+hex64[:32])},
		{"hash short", withFile("x", "sha256:"+hex64[:62])},
		{"hash long", withFile("x", "sha256:"+hex64+"00")},
		{"hash not hex", withFile("x", "sha256:"+strings.Repeat("g", 64))},
		{"hash upper case", withFile("x", "sha256:"+strings.ToUpper(hex64))},
		{"hash empty", withFile("x", "")},
		{"parent path", withFile("../x", generator.Hash(nil))},
		{"absolute path", withFile("/abs", generator.Hash(nil))},
		{"dot dot inside", withFile("a/../b", generator.Hash(nil))},
		{"dot inside", withFile("a/./b", generator.Hash(nil))},
		{"double slash", withFile("a//b", generator.Hash(nil))},
		{"trailing slash", withFile("a/", generator.Hash(nil))},
		{"empty path", withFile("", generator.Hash(nil))},
		{"dot", withFile(".", generator.Hash(nil))},
		{"answers file listed", withFile(generator.AnswersFile, generator.Hash(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := generator.ParseAnswers(tt.data)
			if !errors.Is(err, generator.ErrBadAnswers) {
				t.Errorf("ParseAnswers = %+v, %v; want an error wrapping ErrBadAnswers\n%s", a, err, tt.data)
			}
			if err != nil && a != nil {
				t.Errorf("ParseAnswers returned answers with its error")
			}
		})
	}
}

func TestReadAnswers(t *testing.T) {
	dir := t.TempDir()
	a, err := generator.ReadAnswers(dir)
	if a != nil || err != nil {
		t.Fatalf("ReadAnswers of a directory without answers = %v, %v; want nil, nil", a, err)
	}
	want := sampleAnswers()
	putFile(t, dir, generator.AnswersFile, string(want.Marshal()))
	a, err = generator.ReadAnswers(dir)
	if err != nil || !reflect.DeepEqual(*a, want) {
		t.Fatalf("ReadAnswers = %+v, %v; want %+v", a, err, want)
	}

	putFile(t, dir, generator.AnswersFile, "{")
	a, err = generator.ReadAnswers(dir)
	if a != nil || !errors.Is(err, generator.ErrBadAnswers) || !strings.Contains(err.Error(), filepath.Join(dir, generator.AnswersFile)) {
		t.Errorf("ReadAnswers of a corrupt file = %v, %v; want an ErrBadAnswers naming the file", a, err)
	}

	blocked := t.TempDir()
	if err := os.Mkdir(filepath.Join(blocked, generator.AnswersFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if a, err := generator.ReadAnswers(blocked); a != nil || err == nil {
		t.Errorf("ReadAnswers where the answers file is a directory = %v, %v; want an error", a, err)
	}
}

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, generator.AnswersFile)); err == nil {
			t.Skipf("%s has an answers file above the test's directories", d)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	deep := filepath.Join(root, "cmd", "worker")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := generator.FindRoot(deep); !errors.Is(err, generator.ErrNoAnswers) {
		t.Errorf("FindRoot without answers = %q, %v; want ErrNoAnswers", got, err)
	}

	putFile(t, root, generator.AnswersFile, string(sampleAnswers().Marshal()))
	for _, dir := range []string{root, deep, filepath.Join(deep, "..")} {
		if got, err := generator.FindRoot(dir); err != nil || got != root {
			t.Errorf("FindRoot(%s) = %q, %v; want %q", dir, got, err, root)
		}
	}
	t.Chdir(deep)
	if got, err := generator.FindRoot("."); err != nil || got != root {
		t.Errorf("FindRoot(.) in %s = %q, %v; want %q", deep, got, err, root)
	}
}

func FuzzParseAnswers(f *testing.F) {
	a := sampleAnswers()
	f.Add(a.Marshal())
	cr := generator.Answers{Version: generator.Devel, Inputs: validInputs(generator.CloudRun)}
	f.Add(cr.Marshal())
	f.Add([]byte(`{"version":"v1","inputs":{"target":"aws"},"files":{}}`))
	f.Add([]byte(`{"version":"v1"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := generator.ParseAnswers(data)
		if err != nil {
			if a != nil || !errors.Is(err, generator.ErrBadAnswers) {
				t.Fatalf("ParseAnswers = %v, %v; an error must wrap ErrBadAnswers and come alone", a, err)
			}
			return
		}
		out := a.Marshal()
		b, err := generator.ParseAnswers(out)
		if err != nil {
			t.Fatalf("accepted answers re-marshal to bytes that do not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("re-parsed answers differ: %+v, want %+v", b, a)
		}
		if again := b.Marshal(); !bytes.Equal(again, out) {
			t.Fatalf("Marshal is not stable:\n%s\n%s", again, out)
		}
	})
}
