package generator_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"

	"github.com/helios-project/helios-scaffold/generator"
)

func ExampleRender() {
	in := generator.Defaults(generator.AWS)
	in.Name = "worker"
	files, err := generator.Render(in)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Printf("%-21s %-4s %v\n", name, files[name].Owner, files[name].Mode)
	}
	// Output:
	// .dockerignore         tool -rw-r--r--
	// Dockerfile            tool -rw-r--r--
	// cmd/worker/main.go    tool -rw-r--r--
	// cmd/worker/worker.go  user -rw-r--r--
	// samconfig.toml        tool -rw-r--r--
	// template.yaml         tool -rw-r--r--
}

func ExampleNewPlan() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	in := generator.Defaults(generator.CloudRun)
	in.Name, in.Project, in.Module = "worker", "my-project", "example.com/farm"
	files, err := generator.Render(in)
	if err != nil {
		log.Fatal(err)
	}
	// The first run creates every file, the answers file last.
	plan, err := generator.NewPlan(context.Background(), dir, files, in, nil, "v1.2.3", generator.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range plan.Actions {
		fmt.Println(a.Fate, a.Path)
	}
	if err := plan.Apply(context.Background()); err != nil {
		log.Fatal(err)
	}

	// The next run, with the recorded answers, finds nothing to do.
	prev, err := generator.ReadAnswers(dir)
	if err != nil {
		log.Fatal(err)
	}
	again, err := generator.NewPlan(context.Background(), dir, files, in, prev, "v1.2.3", generator.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(again.Changes()), "changes")
	// Output:
	// create .dockerignore
	// create Dockerfile
	// create cmd/worker/main.go
	// create cmd/worker/worker.go
	// create go.mod
	// create service.yaml
	// create .helios-scaffold.json
	// 0 changes
}

func ExampleEditGoMod() {
	old := []byte("module example.com/farm\n\ngo 1.21\n\nrequire golang.org/x/text v0.21.0\n")
	edit, err := generator.EditGoMod(old, generator.Inputs{}, "v1.2.3")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(edit.Data))
	for _, n := range edit.Notes {
		fmt.Println("note:", n)
	}
	// Output:
	// module example.com/farm
	//
	// go 1.26
	//
	// require (
	// 	github.com/helios-project/helios-scaffold v1.2.3
	// 	golang.org/x/text v0.21.0
	// )
	//
	// tool github.com/helios-project/helios-scaffold
	// note: raised the go line from 1.21 to 1.26, which github.com/helios-project/helios-scaffold needs
}

func ExampleParseAnswers() {
	data := `{
  "version": "v1.2.3",
  "inputs": {"target": "aws", "name": "worker", "arch": "arm64", "package": "zip",
    "ephemeralStorageMB": 512, "memoryMB": 1024, "timeoutSeconds": 60, "region": "eu-west-1"},
  "files": {"Makefile": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
}`
	a, err := generator.ParseAnswers([]byte(data))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Version, a.Inputs.Target, a.Inputs.Name, a.Inputs.MemoryMB)
	fmt.Println(a.Files["Makefile"] == generator.Hash(nil))

	// A timeout out of Lambda's range makes the file corrupt.
	_, err = generator.ParseAnswers([]byte(strings.Replace(data, `"timeoutSeconds": 60`, `"timeoutSeconds": 901`, 1)))
	fmt.Println(errors.Is(err, generator.ErrBadAnswers))
	fmt.Println(err)
	// Output:
	// v1.2.3 aws worker 1024
	// true
	// true
	// answers file is corrupt: --timeout 901: Lambda timeout is 1 to 900 seconds
}
