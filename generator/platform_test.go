package generator_test

// Platform facts checked on every rendered file: what the platforms and
// their validators require of template.yaml, service.yaml, the Dockerfiles,
// the Makefile and the generated Go.

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	dfparser "github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/templates"
)

func checkMakefile(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	recipes := regexp.MustCompile(`(?m)^\t(.*go build.*)$`).FindAllStringSubmatch(string(data), -1)
	if len(recipes) != 1 || !strings.Contains(recipes[0][1], " -o $(ARTIFACTS_DIR)/bootstrap ") {
		t.Fatalf("Makefile: want one go build -o $(ARTIFACTS_DIR)/bootstrap recipe, got %q", recipes)
	}
	checkGoBuild(t, "Makefile", recipes[0][1], in)
}

// checkGoFile checks that a Go file parses, is gofmt-formatted, and carries
// the generated header and the go:generate line exactly when the tool owns it.
func checkGoFile(t *testing.T, name string, f generator.File) {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), name, f.Data, parser.ParseComments)
	if err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	if formatted, err := format.Source(f.Data); err != nil || !bytes.Equal(formatted, f.Data) {
		t.Errorf("%s is not gofmt-formatted (%v)", name, err)
	}
	wantOwner := templates.Tool
	if path.Base(name) == "worker.go" {
		wantOwner = templates.User
	}
	tool := f.Owner == templates.Tool
	if f.Owner != wantOwner {
		t.Errorf("%s: owner %s, want %s", name, f.Owner, wantOwner)
	}
	if header := bytes.HasPrefix(f.Data, []byte(generatedHeader)); header != tool || ast.IsGenerated(file) != tool {
		t.Errorf("%s: starts with %q = %t, want %t for a %s file", name, generatedHeader, header, tool, f.Owner)
	}
	if gen := bytes.Contains(f.Data, []byte("\n"+goGenerate+"\n")); gen != tool {
		t.Errorf("%s: has %q = %t, want %t for a %s file", name, goGenerate, gen, tool, f.Owner)
	}
}

func wantGOARCH(in generator.Inputs) string {
	if in.Arch == "arm64" {
		return "arm64"
	}
	return "amd64" // x86_64 on Lambda; Cloud Run runs linux/amd64 only
}

// checkGoBuild checks the environment and flags of a go build command line.
func checkGoBuild(t *testing.T, where, line string, in generator.Inputs) {
	t.Helper()
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`\b(CGO_ENABLED|GOOS|GOARCH)=(\S+)`).FindAllStringSubmatch(line, -1) {
		env[m[1]] = m[2]
	}
	if want := map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": wantGOARCH(in)}; !maps.Equal(env, want) {
		t.Errorf("%s: go build environment %v, want %v, in %q", where, env, want, line)
	}
	if !strings.Contains(line, " -trimpath ") || !strings.HasSuffix(line, " ./cmd/"+in.Name) {
		t.Errorf("%s: want go build -trimpath ... ./cmd/%s, got %q", where, in.Name, line)
	}
	if hasTag := strings.Contains(line, " -tags lambda.norpc "); hasTag != (in.Target == generator.AWS) {
		t.Errorf("%s: -tags lambda.norpc present = %t, want %t for %s", where, hasTag, !hasTag, in.Target)
	}
}

func checkDockerfile(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	switch warnings, err := checks.Dockerfile(ctx, data); {
	case err != nil:
		t.Errorf("Dockerfile: %v", err)
	case len(warnings) > 0:
		t.Errorf("Dockerfile: docker build --check warns:\n%s", strings.Join(warnings, "\n"))
	}
	res, err := dfparser.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil || len(stages) != 2 {
		t.Fatalf("Dockerfile: %d stages, %v; want a build stage and a final stage", len(stages), err)
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value == nil {
				// BuildKit sets the platforms; every other ARG needs a default.
				if kv.Key != "BUILDPLATFORM" && kv.Key != "TARGETPLATFORM" {
					t.Errorf("Dockerfile: ARG %s has no default", kv.Key)
				}
				continue
			}
			args[kv.Key] = *kv.Value
			if strings.Contains(*kv.Value, "latest") {
				t.Errorf("Dockerfile: ARG %s=%s uses latest", kv.Key, *kv.Value)
			}
		}
	}
	for _, s := range stages {
		base := os.Expand(s.BaseName, func(k string) string { return args[k] })
		if err := pinnedImage(base); err != nil {
			t.Errorf("Dockerfile: FROM %s (%s): %v", s.BaseName, base, err)
		}
	}
	// The Go stage runs on the build platform where the builder says which,
	// else on the target platform, as the classic builder runs every stage.
	// The final stage is the target platform, named for builders (podman 4)
	// that would otherwise keep the build stage's.
	want0, want1 := "${BUILDPLATFORM:-linux/"+wantGOARCH(in)+"}", "${TARGETPLATFORM:-linux/"+wantGOARCH(in)+"}"
	if stages[0].Platform != want0 || stages[1].Platform != want1 {
		t.Errorf("Dockerfile: stage platforms %q and %q, want %q and %q", stages[0].Platform, stages[1].Platform, want0, want1)
	}
	if base := os.Expand(stages[1].BaseName, func(k string) string { return args[k] }); base != in.BaseImage {
		t.Errorf("Dockerfile: final stage FROM %s, want --base-image %s", base, in.BaseImage)
	}
	var entrypoint *instructions.EntrypointCommand
	var user *instructions.UserCommand
	var builds []string
	for _, c := range slices.Concat(stages[0].Commands, stages[1].Commands) {
		switch c := c.(type) {
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.UserCommand:
			user = c
		case *instructions.RunCommand:
			if line := strings.Join(strings.Fields(strings.Join(c.CmdLine, " ")), " "); strings.Contains(line, "go build") {
				builds = append(builds, line)
			}
		}
	}
	if len(builds) != 1 {
		t.Fatalf("Dockerfile: go build runs %d times, want once", len(builds))
	}
	checkGoBuild(t, "Dockerfile", builds[0], in)
	if entrypoint == nil || entrypoint.PrependShell || len(entrypoint.CmdLine) == 0 || !path.IsAbs(entrypoint.CmdLine[0]) {
		t.Errorf("Dockerfile: want ENTRYPOINT in exec form with an absolute path, got %v", entrypoint)
	}
	if in.Target == generator.CloudRun {
		if user == nil || slices.Contains([]string{"", "0", "root", "0:0", "root:root"}, user.User) {
			t.Errorf("Dockerfile: the final stage must run as a non-root USER, got %v", user)
		}
	} else if entrypoint != nil && len(entrypoint.CmdLine) > 0 && path.Base(entrypoint.CmdLine[0]) != "bootstrap" {
		t.Errorf("Dockerfile: Lambda ENTRYPOINT %q is not the bootstrap binary", entrypoint.CmdLine)
	}
	checkRenderReady(t, in, stages[1])
}

// checkRenderReady checks the runtime stage of a --deps helios image: the
// packages, the npm install from the lockfile or the generated
// package.json, and the variables the Helios CLI needs; and that a plain
// image has none of it.
func checkRenderReady(t *testing.T, in generator.Inputs, stage instructions.Stage) {
	t.Helper()
	env, args := map[string]string{}, map[string]string{}
	var runs []string
	for _, c := range stage.Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = strings.Trim(kv.Value, `"`)
			}
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				if a.Value != nil {
					args[a.Key] = *a.Value
				}
			}
		case *instructions.RunCommand:
			runs = append(runs, strings.Join(c.CmdLine, " "))
		}
	}
	all := strings.Join(runs, "\n")
	if !in.HasHeliosDeps() {
		if env["PUPPETEER_EXECUTABLE_PATH"] != "" || strings.Contains(all, "npm") || len(args) > 0 {
			t.Errorf("Dockerfile: a plain image (--deps none) installs Helios: env %v, args %v, runs %q", env, args, runs)
		}
		return
	}
	checkBrowserPin(t, in, args, all)
	for _, pkg := range append([]string{"nodejs", `"chromium-headless-shell=$CHROMIUM_VERSION"`, `"chromium-common=$CHROMIUM_VERSION"`, "ca-certificates"},
		strings.Fields(in.FontPackages())...) {
		if !regexp.MustCompile(`apt install -y --no-install-recommends [^&;]*` + regexp.QuoteMeta(pkg) + `( |$)`).MatchString(all) {
			t.Errorf("Dockerfile: the runtime stage does not apt-get install %s: %q", pkg, runs)
		}
	}
	// Debian's npm 9.2 cannot load the lockfile's overrides: the image takes
	// the pinned npm from the registry, checked against its sha512.
	if regexp.MustCompile(`apt install [^&;]*\bnpm\b`).MatchString(all) {
		t.Errorf("Dockerfile: the runtime stage installs Debian's npm: %q", runs)
	}
	if !strings.Contains(all, "npm-${NPM_VERSION}.tgz") || !strings.Contains(all, `echo "${NPM_SHA512}  /tmp/npm.tgz" | sha512sum -c`) {
		t.Errorf("Dockerfile: the pinned npm is not downloaded and checked: %q", runs)
	}
	wantInstall := "npm install"
	if in.NodeLockfile != "" {
		wantInstall = "npm ci"
	}
	if !strings.Contains(all, wantInstall) {
		t.Errorf("Dockerfile: no %s in %q", wantInstall, runs)
	}
	browserArgs := strings.Fields(env["HELIOS_BROWSER_ARGS"])
	if env["PUPPETEER_EXECUTABLE_PATH"] != "/usr/lib/chromium/chromium-headless-shell" || !slices.Contains(browserArgs, "--no-sandbox") ||
		!slices.Contains(browserArgs, "--headless") || env["HOME"] != "/tmp" ||
		!strings.HasPrefix(env["PATH"], "/opt/helios/node_modules/.bin:") {
		t.Errorf("Dockerfile: render-ready environment %v", env)
	}
}

// checkBrowserPin wants the browser version and snapshot of the answers
// in the Dockerfile's build arguments, the smoke render on by default and
// under a timeout, and no other place that names a browser version.
func checkBrowserPin(t *testing.T, in generator.Inputs, args map[string]string, runs string) {
	t.Helper()
	want := map[string]string{"CHROMIUM_VERSION": in.BrowserVersion, "DEBIAN_SNAPSHOT": in.DebianSnapshot,
		"HELIOS_SMOKE_RENDER": "on", "HELIOS_SMOKE_TIMEOUT": "120"}
	for k, v := range want {
		if args[k] != v {
			t.Errorf("Dockerfile: ARG %s=%q, want %q", k, args[k], v)
		}
	}
	if !strings.Contains(runs, `timeout -k 5 "$HELIOS_SMOKE_TIMEOUT" helios render /opt/helios-smoke/composition.html`) {
		t.Errorf("Dockerfile: no smoke render under a timeout in %q", runs)
	}
	if strings.Contains(runs, in.BrowserVersion) {
		t.Errorf("Dockerfile: a RUN names the browser version itself, not $CHROMIUM_VERSION: %q", runs)
	}
}

// pinnedImage wants an image reference with a digest or a tag other than latest.
func pinnedImage(ref string) error {
	if strings.Contains(ref, "@sha256:") {
		return nil
	}
	_, tag, ok := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	if !ok || tag == "" || tag == "latest" {
		return errors.New("not pinned to a tag other than latest or to a digest")
	}
	return nil
}

// samTemplate is the part of template.yaml the tests look at.
type samTemplate struct {
	Transform string `yaml:"Transform"`
	Resources map[string]struct {
		Type       string            `yaml:"Type"`
		Properties samFunction       `yaml:"Properties"`
		Metadata   map[string]string `yaml:"Metadata"`
	} `yaml:"Resources"`
}

type samFunction struct {
	FunctionName     string   `yaml:"FunctionName"`
	PackageType      string   `yaml:"PackageType"`
	Handler          string   `yaml:"Handler"`
	Runtime          string   `yaml:"Runtime"`
	Architectures    []string `yaml:"Architectures"`
	MemorySize       int      `yaml:"MemorySize"`
	Timeout          int      `yaml:"Timeout"`
	EphemeralStorage struct {
		Size int `yaml:"Size"`
	} `yaml:"EphemeralStorage"`
	LoggingConfig struct {
		LogFormat string `yaml:"LogFormat"`
	} `yaml:"LoggingConfig"`
	Environment struct {
		Variables map[string]string `yaml:"Variables"`
	} `yaml:"Environment"`
	Policies []struct {
		Statement []struct {
			Effect   string    `yaml:"Effect"`
			Action   []string  `yaml:"Action"`
			Resource yaml.Node `yaml:"Resource"` // !Sub
		} `yaml:"Statement"`
	} `yaml:"Policies"`
}

func checkSAM(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	switch err := checks.CFNLint(ctx, file); {
	case errors.Is(err, checks.ErrNoCFNLint):
		t.Logf("template.yaml not linted: %v", err)
	case err != nil:
		t.Errorf("template.yaml: %v", err)
	}

	var tmpl samTemplate
	if err := yaml.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	w, ok := tmpl.Resources["Worker"]
	if !ok || w.Type != "AWS::Serverless::Function" || tmpl.Transform != "AWS::Serverless-2016-10-31" {
		t.Fatalf("template.yaml: no AWS::Serverless::Function Worker in a SAM template")
	}
	p := w.Properties
	if p.FunctionName != in.Name || !slices.Equal(p.Architectures, []string{in.Arch}) {
		t.Errorf("template.yaml: FunctionName %q, Architectures %q; want %q, [%s]", p.FunctionName, p.Architectures, in.Name, in.Arch)
	}
	if p.MemorySize != in.MemoryMB || p.Timeout != in.TimeoutSeconds || p.EphemeralStorage.Size != in.EphemeralStorageMB {
		t.Errorf("template.yaml: MemorySize %d, Timeout %d, EphemeralStorage %d; want %d, %d, %d",
			p.MemorySize, p.Timeout, p.EphemeralStorage.Size, in.MemoryMB, in.TimeoutSeconds, in.EphemeralStorageMB)
	}
	if p.LoggingConfig.LogFormat != "JSON" {
		t.Errorf("template.yaml: LogFormat %q, want JSON", p.LoggingConfig.LogFormat)
	}
	if in.Package == "zip" {
		want := map[string]string{"BuildMethod": "makefile"}
		if p.Runtime != "provided.al2023" || p.Handler != "bootstrap" || p.PackageType != "" || !maps.Equal(w.Metadata, want) {
			t.Errorf("template.yaml: zip function has Runtime %q, Handler %q, PackageType %q, Metadata %v; want provided.al2023, bootstrap, none, %v",
				p.Runtime, p.Handler, p.PackageType, w.Metadata, want)
		}
	} else {
		want := map[string]string{"Dockerfile": "Dockerfile", "DockerContext": ".", "DockerTag": in.Name}
		if p.PackageType != "Image" || p.Runtime != "" || p.Handler != "" || !maps.Equal(w.Metadata, want) {
			t.Errorf("template.yaml: image function has PackageType %q, Runtime %q, Handler %q, Metadata %v; want Image, none, none, %v",
				p.PackageType, p.Runtime, p.Handler, w.Metadata, want)
		}
	}
	var grants []string
	for _, pol := range p.Policies {
		for _, s := range pol.Statement {
			grants = append(grants, s.Effect+" "+strings.Join(s.Action, ",")+" "+s.Resource.Tag+" "+s.Resource.Value)
		}
	}
	var want []string
	if in.JobBucket != "" {
		want = []string{
			"Allow s3:GetObject !Sub arn:${AWS::Partition}:s3:::" + in.JobBucket + "/*",
			"Allow s3:ListBucket !Sub arn:${AWS::Partition}:s3:::" + in.JobBucket,
		}
	}
	if in.OutputURL != "" {
		prefix := in.OutputPrefix()
		if prefix != "" {
			prefix += "/"
		}
		want = append(want, "Allow s3:PutObject,s3:AbortMultipartUpload !Sub arn:${AWS::Partition}:s3:::"+in.OutputBucket()+"/"+prefix+"*")
		if in.HasStateMachine() {
			// The merge reads the outputs back.
			want = append(want, "Allow s3:GetObject !Sub arn:${AWS::Partition}:s3:::"+in.OutputBucket()+"/"+prefix+"*")
		}
	}
	if got := p.Environment.Variables["HELIOS_OUTPUT_URL"]; got != in.OutputURL {
		t.Errorf("template.yaml: HELIOS_OUTPUT_URL %q, want %q", got, in.OutputURL)
	}
	checkOutputLimit(t, in, p.Environment.Variables)
	checkAllowedJobPaths(t, "template.yaml", in, p.Environment.Variables["HELIOS_ALLOWED_JOB_PATHS"])
	if !slices.Equal(grants, want) {
		t.Errorf("template.yaml: policies grant %q, want %q", grants, want)
	}
	checkStateMachine(t, in, data)
}

func checkService(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	svc, err := checks.Service(data)
	if err != nil {
		t.Fatalf("service.yaml: %v", err)
	}
	if svc.Metadata.Name != in.Name || svc.Metadata.Labels["cloud.googleapis.com/location"] != in.Region {
		t.Errorf("service.yaml: name %q in %q, want %q in %q", svc.Metadata.Name, svc.Metadata.Labels["cloud.googleapis.com/location"], in.Name, in.Region)
	}
	if v, ok := svc.Metadata.Annotations["run.googleapis.com/invoker-iam-disabled"]; ok && v != "false" {
		t.Errorf("service.yaml: invoker-iam-disabled %q: invoker IAM must stay on", v)
	}
	annotations := svc.Spec.Template.Metadata.Annotations
	if annotations["run.googleapis.com/execution-environment"] != "gen2" || annotations["autoscaling.knative.dev/maxScale"] != strconv.Itoa(in.MaxInstances) {
		t.Errorf("service.yaml: template annotations %v, want gen2 and maxScale %d", annotations, in.MaxInstances)
	}
	spec := svc.Spec.Template.Spec
	if spec.ContainerConcurrency != int64(in.Concurrency) || spec.TimeoutSeconds != int64(in.TimeoutSeconds) || spec.ServiceAccountName != in.ServiceAccount {
		t.Errorf("service.yaml: containerConcurrency %d, timeoutSeconds %d, serviceAccountName %q; want %d, %d, %q",
			spec.ContainerConcurrency, spec.TimeoutSeconds, spec.ServiceAccountName, in.Concurrency, in.TimeoutSeconds, in.ServiceAccount)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("service.yaml: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != generator.ServiceImage(in) || (in.Image != "" && c.Image != in.Image) {
		t.Errorf("service.yaml: image %q, want %q", c.Image, generator.ServiceImage(in))
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 || c.Ports[0].Name != "http1" {
		t.Errorf("service.yaml: ports %+v, want one http1 port 8080", c.Ports)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["HELIOS_OUTPUT_URL"] != in.OutputURL {
		t.Errorf("service.yaml: HELIOS_OUTPUT_URL %q, want %q", env["HELIOS_OUTPUT_URL"], in.OutputURL)
	}
	checkAllowedJobPaths(t, "service.yaml", in, env["HELIOS_ALLOWED_JOB_PATHS"])
	wantLimits := map[string]string{"cpu": in.CPU, "memory": strconv.Itoa(in.MemoryMB) + "Mi"}
	if c.Resources == nil || !maps.Equal(c.Resources.Limits, wantLimits) {
		t.Errorf("service.yaml: resources %+v, want limits %v", c.Resources, wantLimits)
	}
}

// checkSAMConfig parses samconfig.toml and checks the deploy settings that
// make `sam deploy` run without prompts.
func checkSAMConfig(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	var cfg struct {
		Version float64 `toml:"version"`
		Default struct {
			Build struct {
				Parameters struct {
					Cached bool `toml:"cached"`
				} `toml:"parameters"`
			} `toml:"build"`
			Deploy struct {
				Parameters struct {
					StackName         string   `toml:"stack_name"`
					Region            string   `toml:"region"`
					Capabilities      string   `toml:"capabilities"`
					ConfirmChangeset  bool     `toml:"confirm_changeset"`
					ResolveS3         bool     `toml:"resolve_s3"`
					ResolveImageRepos bool     `toml:"resolve_image_repos"`
					ImageRepositories []string `toml:"image_repositories"`
				} `toml:"parameters"`
			} `toml:"deploy"`
		} `toml:"default"`
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		t.Fatalf("samconfig.toml: %v", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		t.Errorf("samconfig.toml: keys this check does not know: %v", undecoded)
	}
	p := cfg.Default.Deploy.Parameters
	if cfg.Version != 0.1 || p.StackName != in.Name || p.Region != in.Region || p.Capabilities != "CAPABILITY_IAM" || !p.ResolveS3 || !p.ConfirmChangeset {
		t.Errorf("samconfig.toml: version %v, deploy parameters %+v; want 0.1, stack %s, region %s, CAPABILITY_IAM, resolve_s3, confirm_changeset", cfg.Version, p, in.Name, in.Region)
	}
	switch {
	case in.Package == "zip" && (p.ResolveImageRepos || p.ImageRepositories != nil):
		t.Errorf("samconfig.toml for zip names image repositories: %+v", p)
	case in.Package == "image" && in.Image != "" && !slices.Equal(p.ImageRepositories, []string{"Worker=" + in.Image}):
		t.Errorf("samconfig.toml image_repositories = %q, want Worker=%s", p.ImageRepositories, in.Image)
	case in.Package == "image" && in.Image == "" && !p.ResolveImageRepos:
		t.Errorf("samconfig.toml: no image repository and no resolve_image_repos")
	}
}

// checkJob decodes job.yaml strictly into run/v1's Job and checks what
// every flag sets.
func checkJob(t *testing.T, in generator.Inputs, data []byte) {
	t.Helper()
	job, err := checks.Job(data)
	if err != nil {
		t.Fatalf("job.yaml: %v", err)
	}
	if job.Metadata.Name != in.Name || job.Metadata.Labels["cloud.googleapis.com/location"] != in.Region {
		t.Errorf("job.yaml: name %q in %q, want %q in %q", job.Metadata.Name, job.Metadata.Labels["cloud.googleapis.com/location"], in.Name, in.Region)
	}
	exec := job.Spec.Template.Spec
	if exec.TaskCount != int64(in.Tasks) || exec.Parallelism != int64(in.Parallelism) {
		t.Errorf("job.yaml: taskCount %d, parallelism %d; want %d, %d", exec.TaskCount, exec.Parallelism, in.Tasks, in.Parallelism)
	}
	task := exec.Template.Spec
	if task.MaxRetries != int64(in.MaxRetries) || task.TimeoutSeconds != int64(in.TimeoutSeconds) || task.ServiceAccountName != in.ServiceAccount {
		t.Errorf("job.yaml: maxRetries %d, timeoutSeconds %d, serviceAccountName %q; want %d, %d, %q",
			task.MaxRetries, task.TimeoutSeconds, task.ServiceAccountName, in.MaxRetries, in.TimeoutSeconds, in.ServiceAccount)
	}
	if len(task.Containers) != 1 {
		t.Fatalf("job.yaml: %d containers, want 1", len(task.Containers))
	}
	c := task.Containers[0]
	if c.Image != generator.ServiceImage(in) || len(c.Ports) != 0 {
		t.Errorf("job.yaml: image %q and ports %v, want %q and none (a job listens on no port)", c.Image, c.Ports, generator.ServiceImage(in))
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["HELIOS_JOB_PATH"] != in.JobPath || env["HELIOS_OUTPUT_URL"] != in.OutputURL {
		t.Errorf("job.yaml: env %v, want HELIOS_JOB_PATH %q and HELIOS_OUTPUT_URL %q", env, in.JobPath, in.OutputURL)
	}
	checkAllowedJobPaths(t, "job.yaml", in, env["HELIOS_ALLOWED_JOB_PATHS"])
	wantLimits := map[string]string{"cpu": in.CPU, "memory": strconv.Itoa(in.MemoryMB) + "Mi"}
	if c.Resources == nil || !maps.Equal(c.Resources.Limits, wantLimits) {
		t.Errorf("job.yaml: resources %+v, want limits %v", c.Resources, wantLimits)
	}
}

// checkAllowedJobPaths checks the HELIOS_ALLOWED_JOB_PATHS that file sets:
// the job bucket, none without --job-bucket. The worker must accept it, let
// through a spec in the bucket (and the job's HELIOS_JOB_PATH) and refuse
// one in another bucket.
func checkAllowedJobPaths(t *testing.T, file string, in generator.Inputs, got string) {
	t.Helper()
	scheme := map[generator.Target]string{generator.AWS: "s3", generator.CloudRun: "gs"}[in.Target]
	want := ""
	if in.JobBucket != "" {
		want = scheme + "://" + in.JobBucket + "/"
	}
	if got != want {
		t.Fatalf("%s: HELIOS_ALLOWED_JOB_PATHS %q, want %q", file, got, want)
	}
	if got == "" {
		return
	}
	cfg := worker.DefaultConfig()
	cfg.AllowedJobPaths = []string{got}
	if err := cfg.Validate(); err != nil {
		t.Errorf("%s: the worker refuses its HELIOS_ALLOWED_JOB_PATHS: %v", file, err)
	}
	for _, loc := range []string{want + "job.json", want + "jobs/job-42.json", in.JobPath} {
		if err := cfg.CheckJobPath(loc); loc != "" && err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	if err := cfg.CheckJobPath(scheme + "://" + in.JobBucket + "-evil/job.json"); err == nil {
		t.Errorf("%s: HELIOS_ALLOWED_JOB_PATHS %q lets in another bucket", file, got)
	}
}
