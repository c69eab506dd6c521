package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// TestGoGenerateRefreshesEntryPoint plays an upgrade: a copy of the aws
// example whose main.go was written by an older helios-scaffold (its
// recorded hash matches the old content), and whose worker.go the user has
// edited. `go generate ./...` — through the go:generate line, go tool and
// the tool directive, as users run it — must bring main.go in line and
// leave worker.go alone.
func TestGoGenerateRefreshesEntryPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go generate and builds the tool; skipped with -short")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "examples", "aws-lambda")
	dir := t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", generator.AnswersFile, "template.yaml", "Dockerfile", ".dockerignore",
		"cmd/render-worker/main.go", "cmd/render-worker/worker.go"} {
		copyFile(t, filepath.Join(src, name), filepath.Join(dir, name))
	}
	goCmd(t, dir, nil, "mod", "edit", "-replace", generator.ModulePath+"="+root)

	current, _ := os.ReadFile(filepath.Join(src, "cmd/render-worker/main.go"))
	old := strings.Replace(string(current), "func main() {", "func main() { // an older entry point", 1)
	if old == string(current) {
		t.Fatal("the example's main.go has no func main() {")
	}
	mainGo := filepath.Join(dir, "cmd/render-worker/main.go")
	writeFile(t, mainGo, old)
	userCode := "package main\n\n// edited by the user\n" + strings.TrimPrefix(readString(t, filepath.Join(src, "cmd/render-worker/worker.go")), "package main\n")
	writeFile(t, filepath.Join(dir, "cmd/render-worker/worker.go"), userCode)

	// As the older version wrote it: the answers hold the old main.go's hash
	// and a replace that points at this checkout.
	answersPath := filepath.Join(dir, generator.AnswersFile)
	answers, err := generator.ParseAnswers([]byte(readString(t, answersPath)))
	if err != nil {
		t.Fatal(err)
	}
	answers.Files["cmd/render-worker/main.go"] = generator.Hash([]byte(old))
	answers.Inputs.ReplaceRuntime = root
	writeFile(t, answersPath, string(answers.Marshal()))

	cmd := exec.Command("go", "generate", "./...")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go generate ./...: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "update      cmd/render-worker/main.go") {
		t.Errorf("go generate did not report the update:\n%s", out)
	}
	if got := readString(t, mainGo); got != string(current) {
		t.Errorf("main.go after go generate:\n%s\nwant:\n%s", got, current)
	}
	if got := readString(t, filepath.Join(dir, "cmd/render-worker/worker.go")); got != userCode {
		t.Errorf("go generate rewrote the user's worker.go:\n%s", got)
	}
	var after generator.Answers
	if err := json.Unmarshal([]byte(readString(t, answersPath)), &after); err != nil {
		t.Fatal(err)
	}
	if after.Files["cmd/render-worker/main.go"] != generator.Hash(current) {
		t.Errorf("answers record %s for main.go, want the new content's hash", after.Files["cmd/render-worker/main.go"])
	}
	goCmd(t, dir, nil, "vet", "./...")
}

func readString(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
