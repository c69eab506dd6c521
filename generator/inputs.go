package generator

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Target is the platform a repository is scaffolded for.
type Target string

// The targets helios-scaffold knows.
const (
	AWS      Target = "aws"
	CloudRun Target = "cloudrun"
)

// ErrInput is wrapped by every error about a bad input, so that callers can
// tell bad usage from failures.
var ErrInput = errors.New("invalid input")

// inputError is a bad input; its message names the flag and the rule.
type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInput }

func inputErrorf(format string, args ...any) error {
	return &inputError{fmt.Sprintf(format, args...)}
}

// Inputs are everything a target's files are rendered from. They are
// recorded in the answers file, so that generate renders the same files.
type Inputs struct {
	Target Target `json:"target"`
	Name   string `json:"name"`
	// Module is the module path used when there is no go.mod yet.
	Module string `json:"module,omitempty"`

	// AWS only.
	Arch               string `json:"arch,omitempty"`    // arm64 or x86_64
	Package            string `json:"package,omitempty"` // image or zip
	EphemeralStorageMB int    `json:"ephemeralStorageMB,omitempty"`
	// Orchestrator is "" or "none" (the function alone: a caller such as
	// helios-scaffold run fans the chunks out), or "stepfunctions": a
	// state machine in template.yaml renders a whole job by itself (a
	// Distributed Map over the chunks, then the merge); MaxConcurrency is
	// its Map's MaxConcurrency, set only then. See [Inputs.SetOrchestrator].
	Orchestrator   string `json:"orchestrator,omitempty"`
	MaxConcurrency int    `json:"maxConcurrency,omitempty"`

	// Cloud Run only.
	CPU            string `json:"cpu,omitempty"`
	Project        string `json:"project,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Kind is service (the default; "" in answers written before jobs) or
	// job.
	Kind string `json:"kind,omitempty"`
	// A service's.
	Concurrency  int `json:"concurrency,omitempty"`
	MaxInstances int `json:"maxInstances,omitempty"`
	// A job's: its tasks, how many run at once (0: as many as Cloud Run
	// allows), the retries of a failed task, and the spec it renders.
	Tasks       int    `json:"tasks,omitempty"`
	Parallelism int    `json:"parallelism,omitempty"`
	MaxRetries  int    `json:"maxRetries,omitempty"`
	JobPath     string `json:"jobPath,omitempty"`

	// Both.
	MemoryMB       int    `json:"memoryMB"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
	Region         string `json:"region"`
	Image          string `json:"image,omitempty"`
	BaseImage      string `json:"baseImage,omitempty"`
	JobBucket      string `json:"jobBucket,omitempty"`
	// OutputURL is the folder that chunk outputs are uploaded to:
	// s3://bucket/prefix (aws) or gs://bucket/prefix (cloudrun).
	OutputURL string `json:"outputUrl,omitempty"`
	// Deps is what the image's runtime stage brings for the chunk
	// commands: "" or "none" (nothing: the marked install step is yours),
	// or "helios" (Node.js, Chromium, fonts and the Helios CLI).
	Deps string `json:"deps,omitempty"`
	// NodeLockfile is the lockfile at the repository's root that the
	// helios image installs the project's dependencies from (npm ci):
	// package-lock.json or npm-shrinkwrap.json; "" when there is none, and
	// the image installs the Helios CLI alone. init finds it.
	NodeLockfile string `json:"nodeLockfile,omitempty"`
	// NodeLocalPackages are the folders of local packages (file:) that the
	// lockfile links, relative to the repository: the image copies them
	// for npm ci. init finds them.
	NodeLocalPackages []string `json:"nodeLocalPackages,omitempty"`
	// BrowserVersion is the exact Debian version of chromium-headless-shell
	// that a --deps helios image installs, read from Debian's snapshot
	// archive as it was at DebianSnapshot ("off": from the base image's
	// own mirror). See [DefaultBrowserVersion].
	BrowserVersion string `json:"browserVersion,omitempty"`
	DebianSnapshot string `json:"debianSnapshot,omitempty"`
	// Fonts is the font set of a --deps helios image: basic or noto.
	Fonts string `json:"fonts,omitempty"`
	// ReplaceRuntime, when set, adds a replace directive pointing this
	// module at a local checkout; a relative path is relative to the
	// repository, as in go.mod.
	ReplaceRuntime string `json:"replaceRuntime,omitempty"`
}

// Images the generated Dockerfiles default to. Tags are pinned; change them
// with --base-image or the GO_IMAGE build argument.
const (
	GoImage           = "golang:1.26.8"
	AWSBaseImage      = "public.ecr.aws/lambda/provided:al2023"
	CloudRunBaseImage = "debian:13.1-slim"
)

// Defaults returns the inputs a target starts from before flags apply.
func Defaults(t Target) Inputs {
	switch t {
	case AWS:
		return Inputs{Target: AWS, Name: "helios-worker", Arch: "arm64", Package: "image",
			MemoryMB: 3008, TimeoutSeconds: 900, EphemeralStorageMB: 2048,
			Region: "us-east-1", BaseImage: AWSBaseImage}
	case CloudRun:
		in := Inputs{Target: CloudRun, Name: "helios-worker", CPU: "2", MemoryMB: 4096,
			Region: "us-central1", BaseImage: CloudRunBaseImage}
		in.SetKind(KindService)
		return in
	}
	return Inputs{Target: t}
}

// What the image's runtime stage brings for the chunk commands (--deps).
const (
	DepsNone   = "none"
	DepsHelios = "helios"
)

// The npm that a --deps helios image installs from the npm registry, and
// the sha512 (hex) of its tarball, as the registry publishes it (in base64)
// in dist.integrity. Debian 13's npm 9.2 cannot load a lockfile whose
// overrides point at a local package, which the Helios CLI needs.
const (
	NPMVersion = "11.21.3"
	NPMSHA512  = "e427fe8c4f9772d6e11ffce338ea970be8adcbb79e73f4e4938425dfcb5feb0fb586da76c183c7984e1cd51d44b370d8db6ec0735e3e48bae5609c2406271b4e"
)

// HeliosBaseImage is the runtime stage of a --deps helios image, for both
// targets: Debian 13 packages Node.js 20 and Chromium (Amazon Linux 2023,
// the Lambda base, has no Chromium).
const HeliosBaseImage = "debian:13.1-slim"

// Sizes of a --deps helios worker, for a 1080p chunk of 30 to 150 frames:
// see docs/deploying.md ("From a Helios project to a deployed worker") for how
// they were measured.
const (
	heliosLambdaMemoryMB  = 4096 // Chromium, the encoder and the worker; 2.3 vCPUs
	heliosLambdaStorageMB = 4096 // /tmp: assets, the chunk's output, Chromium's profile
	heliosRunCPU          = "4"
	heliosRunMemoryMB     = 8192 // Cloud Run's /tmp is memory: the workspace counts
)

// HasHeliosDeps reports whether the image is render-ready (--deps helios).
func (in Inputs) HasHeliosDeps() bool { return in.Deps == DepsHelios }

// SetDeps sets --deps and moves the defaults that depend on it: the base
// image, memory and ephemeral storage (aws), CPU and memory (cloudrun). A
// value the user chose, one that is not the other setting's default, is
// kept.
func (in *Inputs) SetDeps(deps string) {
	in.Deps = deps
	in.SetRenderDefaults()
	helios := deps == DepsHelios
	swap := func(v *int, plain, rendered int) {
		switch {
		case helios && *v == plain:
			*v = rendered
		case !helios && *v == rendered:
			*v = plain
		}
	}
	plain := Defaults(in.Target)
	switch in.Target {
	case AWS:
		swap(&in.MemoryMB, plain.MemoryMB, heliosLambdaMemoryMB)
		swap(&in.EphemeralStorageMB, plain.EphemeralStorageMB, heliosLambdaStorageMB)
		switch {
		case helios && in.BaseImage == AWSBaseImage:
			in.BaseImage = HeliosBaseImage
		case !helios && in.BaseImage == HeliosBaseImage:
			in.BaseImage = AWSBaseImage
		}
	case CloudRun:
		swap(&in.MemoryMB, plain.MemoryMB, heliosRunMemoryMB)
		switch {
		case helios && in.CPU == plain.CPU:
			in.CPU = heliosRunCPU
		case !helios && in.CPU == heliosRunCPU:
			in.CPU = plain.CPU
		}
	}
}

// The orchestrators of an AWS worker (--orchestrator).
const (
	OrchestratorNone          = "none"
	OrchestratorStepFunctions = "stepfunctions"
)

// DefaultMaxConcurrency is the Distributed Map's MaxConcurrency unless
// --max-concurrency says otherwise: as many chunks at once as helios-scaffold
// run starts, well under Lambda's default 1,000 concurrent executions.
const DefaultMaxConcurrency = 100

// maxMapConcurrency is the most child executions a Distributed Map runs
// at once.
const maxMapConcurrency = 10000

// HasStateMachine reports whether template.yaml holds the Step Functions
// state machine (--orchestrator stepfunctions).
func (in Inputs) HasStateMachine() bool {
	return in.Target == AWS && in.Orchestrator == OrchestratorStepFunctions
}

// SetOrchestrator sets --orchestrator: with stepfunctions, an unset
// MaxConcurrency takes [DefaultMaxConcurrency]; without, it is cleared, as
// it means nothing there.
func (in *Inputs) SetOrchestrator(o string) {
	in.Orchestrator = o
	switch {
	case o != OrchestratorStepFunctions:
		in.MaxConcurrency = 0
	case in.MaxConcurrency == 0:
		in.MaxConcurrency = DefaultMaxConcurrency
	}
}

// StateMachineName is the name of the state machine that --orchestrator
// stepfunctions adds: the function's name and "-render". It is fixed,
// rather than left to CloudFormation, so that the state machine's role
// can name the state machine (a Distributed Map starts its child
// executions on it) without a circular dependency.
func (in Inputs) StateMachineName() string { return in.Name + "-render" }

// StateMachineArn is the ARN of the state machine that --orchestrator
// stepfunctions adds, in the given partition ("aws", "aws-cn",
// "aws-us-gov") and account; the stack's StateMachineArn output says the
// same.
func (in Inputs) StateMachineArn(partition, account string) string {
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s", partition, in.Region, account, in.StateMachineName())
}

// StateMachineResultsPrefix is the folder of the job bucket where the
// Distributed Map writes its results (ResultWriter): each execution's
// under a folder of its Map Run's id, with a manifest.json.
const StateMachineResultsPrefix = "helios-run/results"

// ChunkListSuffix ends the name of every chunk list that the state
// machine may read (ItemReader): an object of the job bucket whose key ends
// so, such as helios-run/jobs/intro-1a2b3c4d.chunks.json, holding a JSON
// array of the job's chunk ids. The state machine's role reads nothing
// else.
const ChunkListSuffix = ".chunks.json"

// The kinds of Cloud Run workload.
const (
	KindService = "service"
	KindJob     = "job"
)

// IsJob reports whether in is a Cloud Run job.
func (in Inputs) IsJob() bool { return in.Target == CloudRun && in.Kind == KindJob }

// SetKind makes a Cloud Run worker a service or a job: the fields of the
// other kind are cleared, and those of the new kind that are unset take
// their defaults, as does a timeout that is the other kind's default (900
// seconds for a service's request, 3600 for a job's task) or beyond the new
// kind's range. What both kinds share (name, sizing, buckets, image) is
// kept, so that init cloudrun --kind job turns a service into a job.
func (in *Inputs) SetKind(kind string) {
	in.Kind = kind
	switch kind {
	case KindJob:
		in.Concurrency, in.MaxInstances = 0, 0
		if in.Tasks == 0 {
			in.Tasks, in.MaxRetries = 1, 3
		}
		if in.TimeoutSeconds == 0 || in.TimeoutSeconds == 900 {
			in.TimeoutSeconds = 3600 // a task renders several chunks
		}
	default:
		in.Tasks, in.Parallelism, in.MaxRetries, in.JobPath = 0, 0, 0, ""
		if in.Concurrency == 0 {
			in.Concurrency, in.MaxInstances = 1, 100
		}
		if in.TimeoutSeconds == 0 || in.TimeoutSeconds >= 3600 {
			in.TimeoutSeconds = 900
		}
	}
}

var (
	lambdaName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	runName       = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$`)
	awsRegion     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	gcpRegion     = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	gcpProject    = regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
	s3Bucket      = regexp.MustCompile(`^[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]$`)
	gcsBucket     = regexp.MustCompile(`^[a-z0-9][-a-z0-9_.]{1,220}[a-z0-9]$`)
	ecrRepository = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9]+([._/-][a-z0-9]+)*$`)
	serviceEmail  = regexp.MustCompile(`^[a-z0-9][-a-z0-9]{4,62}@([-a-z0-9]+\.iam|developer)\.gserviceaccount\.com$`)
)

// Validate reports every input that is out of the target platform's range,
// each with the rule or range it breaks. The errors wrap [ErrInput].
func (in Inputs) Validate() error {
	var errs problems
	bad := errs.check
	switch in.Target {
	case AWS:
		bad(!lambdaName.MatchString(in.Name), "--name %q: a Lambda function name is 1 to 64 letters, digits, hyphens or underscores, starting with a letter or digit", in.Name)
		bad(in.Arch != "arm64" && in.Arch != "x86_64", "--arch %q: want arm64 or x86_64", in.Arch)
		bad(in.Package != "image" && in.Package != "zip", "--package %q: want image or zip", in.Package)
		bad(in.MemoryMB < 128 || in.MemoryMB > 10240, "--memory %d: Lambda memory is 128 to 10240 MB", in.MemoryMB)
		bad(in.TimeoutSeconds < 1 || in.TimeoutSeconds > 900, "--timeout %d: Lambda timeout is 1 to 900 seconds", in.TimeoutSeconds)
		bad(in.EphemeralStorageMB < 512 || in.EphemeralStorageMB > 10240, "--ephemeral-storage %d: Lambda ephemeral storage is 512 to 10240 MB", in.EphemeralStorageMB)
		bad(!awsRegion.MatchString(in.Region), "--region %q: want an AWS region such as us-east-1", in.Region)
		bad(in.JobBucket != "" && !s3Bucket.MatchString(in.JobBucket), "--job-bucket %q: an S3 bucket name is 3 to 63 lowercase letters, digits, dots or hyphens", in.JobBucket)
		bad(in.Image != "" && !ecrRepository.MatchString(in.Image), "--image %q: for aws, the ECR repository that sam deploy pushes to, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/helios-worker (no tag: sam deploy tags the image); --base-image sets the base", in.Image)
		bad(in.Image != "" && in.Package == "zip", "--image is for --package image")
		if err := checkOutputURL(in.OutputURL, "s3", s3Bucket); err != nil {
			errs = append(errs, err)
		}
		bad(in.Project != "" || in.CPU != "" || in.Concurrency != 0 || in.MaxInstances != 0 || in.ServiceAccount != "",
			"--project, --cpu, --concurrency, --max-instances and --service-account are for cloudrun")
		bad(in.Kind != "" || in.Tasks != 0 || in.Parallelism != 0 || in.MaxRetries != 0 || in.JobPath != "",
			"--kind, --tasks, --parallelism, --max-retries and --job-path are for cloudrun")
		errs = append(errs, in.validateOrchestrator()...)
	case CloudRun:
		errs = append(errs, in.validateCloudRun()...)
		bad(in.Orchestrator != "" || in.MaxConcurrency != 0, "--orchestrator and --max-concurrency are for aws")
	default:
		bad(true, "unknown target %q: want aws or cloudrun", in.Target)
	}
	if in.BaseImage != "" {
		if err := checkImage("--base-image", in.BaseImage); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, in.validateDeps()...)
	errs = append(errs, in.validateBrowser()...)
	return errors.Join(errs...)
}

func (in Inputs) validateOrchestrator() []error {
	var errs problems
	bad := errs.check
	switch in.Orchestrator {
	case "", OrchestratorNone:
		bad(in.MaxConcurrency != 0, "--max-concurrency is for --orchestrator stepfunctions")
	case OrchestratorStepFunctions:
		bad(in.MaxConcurrency < 1 || in.MaxConcurrency > maxMapConcurrency,
			"--max-concurrency %d: a Distributed Map runs 1 to %d chunks at once", in.MaxConcurrency, maxMapConcurrency)
		bad(in.JobBucket == "", "--orchestrator stepfunctions needs --job-bucket: the state machine reads the chunk list there and writes the Map's results below s3://BUCKET/%s/", StateMachineResultsPrefix)
		bad(in.OutputURL == "", "--orchestrator stepfunctions needs --output-url: the chunks upload their outputs there, and the merge reads them")
	default:
		bad(true, "--orchestrator %q: want none or stepfunctions", in.Orchestrator)
	}
	return errs
}

func (in Inputs) validateCloudRun() []error {
	var errs problems
	bad := errs.check
	switch in.Kind {
	case "", KindService:
		errs = append(errs, in.validateService()...)
	case KindJob:
		errs = append(errs, in.validateJob()...)
	default:
		bad(true, "--kind %q: want service or job", in.Kind)
	}
	bad(!gcpRegion.MatchString(in.Region), "--region %q: want a Cloud Run region such as us-central1", in.Region)
	bad(in.Project != "" && !gcpProject.MatchString(in.Project), "--project %q: a project ID is 6 to 30 lowercase letters, digits or hyphens, starting with a letter", in.Project)
	bad(in.Project == "" && in.Image == "", "--project or --image is needed, and no project was found in CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT or gcloud's configuration: the image is REGION-docker.pkg.dev/PROJECT/helios/NAME unless --image says otherwise")
	bad(in.JobBucket != "" && !gcsBucket.MatchString(in.JobBucket), "--job-bucket %q: want a Cloud Storage bucket name", in.JobBucket)
	if err := checkOutputURL(in.OutputURL, "gs", gcsBucket); err != nil {
		errs = append(errs, err)
	}
	bad(in.ServiceAccount != "" && !serviceEmail.MatchString(in.ServiceAccount), "--service-account %q: want a service account email, NAME@PROJECT.iam.gserviceaccount.com (or the default NUMBER-compute@developer.gserviceaccount.com)", in.ServiceAccount)
	bad(in.Arch != "" || in.Package != "" || in.EphemeralStorageMB != 0, "--arch, --package and --ephemeral-storage are for aws (Cloud Run runs linux/amd64 images)")
	if err := checkCloudRunSize(in.CPU, in.MemoryMB); err != nil {
		errs = append(errs, err)
	}
	if in.Image != "" {
		if err := checkImage("--image", in.Image); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (in Inputs) validateService() []error {
	var errs problems
	bad := errs.check
	bad(!runName.MatchString(in.Name), "--name %q: a Cloud Run service name is 1 to 49 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", in.Name)
	bad(in.TimeoutSeconds < 1 || in.TimeoutSeconds > 3600, "--timeout %d: Cloud Run request timeout is 1 to 3600 seconds", in.TimeoutSeconds)
	bad(in.Concurrency < 1 || in.Concurrency > 1000, "--concurrency %d: want 1 to 1000 (1 suits render chunks)", in.Concurrency)
	bad(in.MaxInstances < 1 || in.MaxInstances > 1000, "--max-instances %d: want 1 to 1000", in.MaxInstances)
	bad(in.Tasks != 0 || in.Parallelism != 0 || in.MaxRetries != 0 || in.JobPath != "",
		"--tasks, --parallelism, --max-retries and --job-path are for --kind job")
	return errs
}

// jobName is a Cloud Run job's name: up to 63 characters.
var jobName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (in Inputs) validateJob() []error {
	var errs problems
	bad := errs.check
	bad(!jobName.MatchString(in.Name), "--name %q: a Cloud Run job name is 1 to 63 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", in.Name)
	bad(in.TimeoutSeconds < 1 || in.TimeoutSeconds > 604800, "--timeout %d: a Cloud Run task timeout is 1 to 604800 seconds (168 hours)", in.TimeoutSeconds)
	bad(in.Tasks < 1 || in.Tasks > 10000, "--tasks %d: a Cloud Run job runs 1 to 10000 tasks", in.Tasks)
	bad(in.Parallelism < 0 || in.Parallelism > in.Tasks, "--parallelism %d: want 0 (as many as Cloud Run allows) to --tasks (%d)", in.Parallelism, in.Tasks)
	bad(in.MaxRetries < 0 || in.MaxRetries > 10, "--max-retries %d: want 0 to 10", in.MaxRetries)
	bad(in.Concurrency != 0 || in.MaxInstances != 0, "--concurrency and --max-instances are for a service (--kind service)")
	if in.JobPath != "" && !strings.HasPrefix(in.JobPath, "gs://") && !strings.HasPrefix(in.JobPath, "https://") {
		bad(true, "--job-path %q: want the job spec's gs://BUCKET/OBJECT (or https://) location", in.JobPath)
	} else if in.JobPath != "" && in.JobBucket != "" {
		cfg := worker.DefaultConfig()
		cfg.AllowedJobPaths = []string{in.AllowedJobPaths()}
		bad(cfg.CheckJobPath(in.JobPath) != nil, "--job-path %q is outside --job-bucket: the tasks read specs below %s only (HELIOS_ALLOWED_JOB_PATHS)", in.JobPath, in.AllowedJobPaths())
	}
	return errs
}

func (in Inputs) validateDeps() []error {
	var errs problems
	bad := errs.check
	switch in.Deps {
	case "", DepsNone:
		bad(in.NodeLockfile != "" || len(in.NodeLocalPackages) > 0, "a Node.js lockfile is used only with --deps helios")
	case DepsHelios:
		bad(in.Target == AWS && in.Package == "zip", "--deps helios needs --package image: Chromium and Node.js do not fit a zip")
		bad(strings.HasPrefix(in.BaseImage, "public.ecr.aws/lambda/provided"), "--deps helios needs a Debian base image (%s by default): %s has no Chromium", HeliosBaseImage, in.BaseImage)
		bad(in.NodeLockfile != "" && in.NodeLockfile != "package-lock.json" && in.NodeLockfile != "npm-shrinkwrap.json",
			"lockfile %q: want package-lock.json or npm-shrinkwrap.json", in.NodeLockfile)
		for _, p := range in.NodeLocalPackages {
			bad(!outputPrefix.MatchString(p) || slices.Contains(strings.Split(p, "/"), ".."),
				"local npm package %q: want a folder of the repository, named with letters, digits, dots, hyphens and underscores", p)
		}
	default:
		bad(true, "--deps %q: want none or helios", in.Deps)
	}
	return errs
}

// problems collects input errors.
type problems []error

// check adds the error that format describes when bad holds.
func (p *problems) check(bad bool, format string, args ...any) {
	if bad {
		*p = append(*p, inputErrorf(format, args...))
	}
}

// outputPrefix is the object prefix of --output-url: folders of letters,
// digits and ._- only, which an IAM resource or condition can name as is.
var outputPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)

// checkOutputURL wants "" or scheme://bucket with an optional prefix.
func checkOutputURL(u, scheme string, bucketName *regexp.Regexp) error {
	if u == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(u, scheme+"://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	switch {
	case !ok:
		return inputErrorf("--output-url %q: want %s://BUCKET/PREFIX, the folder that chunk outputs are uploaded to", u, scheme)
	case !bucketName.MatchString(bucket):
		return inputErrorf("--output-url %q: %q is not a valid bucket name", u, bucket)
	case prefix != "" && (!outputPrefix.MatchString(prefix) || slices.Contains(strings.Split(prefix, "/"), "..") || slices.Contains(strings.Split(prefix, "/"), ".")):
		return inputErrorf("--output-url %q: the prefix is folders of letters, digits, dots, hyphens and underscores (no . or .. folders)", u)
	}
	return nil
}

// OutputBucket is the bucket of --output-url, "" when there is none.
func (in Inputs) OutputBucket() string {
	_, rest, _ := strings.Cut(in.OutputURL, "://")
	bucket, _, _ := strings.Cut(rest, "/")
	return bucket
}

// AllowedJobPaths is the worker's HELIOS_ALLOWED_JOB_PATHS: the job bucket
// (s3://BUCKET/ for aws, gs://BUCKET/ for cloudrun), "" without
// --job-bucket.
func (in Inputs) AllowedJobPaths() string {
	switch {
	case in.JobBucket == "":
		return ""
	case in.Target == AWS:
		return "s3://" + in.JobBucket + "/"
	}
	return "gs://" + in.JobBucket + "/"
}

// OutputPrefix is the object prefix of --output-url without its trailing
// slash, "" for the whole bucket.
func (in Inputs) OutputPrefix() string {
	_, rest, _ := strings.Cut(in.OutputURL, "://")
	_, prefix, _ := strings.Cut(rest, "/")
	return strings.TrimSuffix(prefix, "/")
}

// checkCloudRunSize applies Cloud Run's CPU and memory pairing rules for the
// gen2 execution environment.
func checkCloudRunSize(cpu string, mem int) error {
	minMem := map[string]int{"1": 512, "2": 512, "4": 2048, "8": 4096}
	maxMem := map[string]int{"1": 4096, "2": 8192, "4": 16384, "8": 32768}
	lo, ok := minMem[cpu]
	if !ok {
		return inputErrorf("--cpu %q: want 1, 2, 4 or 8", cpu)
	}
	if hi := maxMem[cpu]; mem < lo || mem > hi {
		return inputErrorf("--memory %d: with --cpu %s, Cloud Run memory is %d to %d MiB", mem, cpu, lo, hi)
	}
	return nil
}

// checkImage wants a valid reference, parsed as docker does, with a pinned
// tag or a digest: never latest, never none.
func checkImage(flag, ref string) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return inputErrorf("%s %q: not an image reference: %v", flag, ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil
	}
	tagged, ok := named.(reference.Tagged)
	switch {
	case !ok:
		return inputErrorf("%s %q: pin a tag or a digest", flag, ref)
	case tagged.Tag() == "latest":
		return inputErrorf("%s %q: pin a tag other than latest, which moves", flag, ref)
	}
	return nil
}
