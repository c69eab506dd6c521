package generator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/generator"
)

// validInputs returns inputs of target t that pass Validate.
func validInputs(t generator.Target) generator.Inputs {
	in := generator.Defaults(t)
	if t == generator.CloudRun {
		in.Project = "my-project"
	}
	return in
}

// withStateMachine turns on --orchestrator stepfunctions, with the
// buckets it needs.
func withStateMachine(in *generator.Inputs) {
	in.JobBucket, in.OutputURL = "my-render-jobs", "s3://my-render-outputs/renders"
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
}

func TestDefaultsValidate(t *testing.T) {
	for _, target := range []generator.Target{generator.AWS, generator.CloudRun} {
		if err := validInputs(target).Validate(); err != nil {
			t.Errorf("%s defaults: %v", target, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	long := func(n int) string { return "a" + strings.Repeat("b", n-1) }
	tests := []struct {
		name   string
		target generator.Target
		edit   func(*generator.Inputs)
		want   []string // substrings of the message: the flag, then the rule
	}{
		{"aws timeout 0", generator.AWS, func(in *generator.Inputs) { in.TimeoutSeconds = 0 }, []string{"--timeout 0", "1 to 900 seconds"}},
		{"aws timeout 901", generator.AWS, func(in *generator.Inputs) { in.TimeoutSeconds = 901 }, []string{"--timeout 901", "1 to 900 seconds"}},
		{"aws memory 127", generator.AWS, func(in *generator.Inputs) { in.MemoryMB = 127 }, []string{"--memory 127", "128 to 10240 MB"}},
		{"aws memory 10241", generator.AWS, func(in *generator.Inputs) { in.MemoryMB = 10241 }, []string{"--memory 10241", "128 to 10240 MB"}},
		{"aws storage 511", generator.AWS, func(in *generator.Inputs) { in.EphemeralStorageMB = 511 }, []string{"--ephemeral-storage 511", "512 to 10240 MB"}},
		{"aws storage 10241", generator.AWS, func(in *generator.Inputs) { in.EphemeralStorageMB = 10241 }, []string{"--ephemeral-storage 10241", "512 to 10240 MB"}},
		{"aws arch", generator.AWS, func(in *generator.Inputs) { in.Arch = "amd64" }, []string{`--arch "amd64"`, "arm64 or x86_64"}},
		{"aws package", generator.AWS, func(in *generator.Inputs) { in.Package = "jar" }, []string{`--package "jar"`, "image or zip"}},
		{"aws name 65 chars", generator.AWS, func(in *generator.Inputs) { in.Name = long(65) }, []string{"--name", "1 to 64"}},
		{"aws name starts with hyphen", generator.AWS, func(in *generator.Inputs) { in.Name = "-worker" }, []string{"--name", "starting with a letter or digit"}},
		{"aws name with dot", generator.AWS, func(in *generator.Inputs) { in.Name = "my.worker" }, []string{"--name", "letters, digits, hyphens or underscores"}},
		{"aws name empty", generator.AWS, func(in *generator.Inputs) { in.Name = "" }, []string{`--name ""`, "1 to 64"}},
		{"aws region", generator.AWS, func(in *generator.Inputs) { in.Region = "us-central1" }, []string{`--region "us-central1"`, "AWS region"}},
		{"aws bucket uppercase", generator.AWS, func(in *generator.Inputs) { in.JobBucket = "My-Bucket" }, []string{"--job-bucket", "3 to 63 lowercase"}},
		{"aws bucket too short", generator.AWS, func(in *generator.Inputs) { in.JobBucket = "ab" }, []string{"--job-bucket", "3 to 63"}},
		{"aws image not an ECR repository", generator.AWS, func(in *generator.Inputs) { in.Image = "repo/img:v1" }, []string{`--image "repo/img:v1"`, "ECR repository", "--base-image"}},
		{"aws image with zip", generator.AWS, func(in *generator.Inputs) {
			in.Package, in.Image = "zip", "123456789012.dkr.ecr.us-east-1.amazonaws.com/worker"
		}, []string{"--image is for --package image"}},
		{"aws project", generator.AWS, func(in *generator.Inputs) { in.Project = "my-project" }, []string{"--project", "are for cloudrun"}},
		{"aws cpu", generator.AWS, func(in *generator.Inputs) { in.CPU = "2" }, []string{"--cpu", "are for cloudrun"}},
		{"aws concurrency", generator.AWS, func(in *generator.Inputs) { in.Concurrency = 1 }, []string{"--concurrency", "are for cloudrun"}},
		{"aws max instances", generator.AWS, func(in *generator.Inputs) { in.MaxInstances = 1 }, []string{"--max-instances", "are for cloudrun"}},
		{"aws service account", generator.AWS, func(in *generator.Inputs) { in.ServiceAccount = "a@b.com" }, []string{"--service-account", "are for cloudrun"}},
		{"aws base image latest", generator.AWS, func(in *generator.Inputs) { in.BaseImage = "public.ecr.aws/lambda/provided:latest" }, []string{"--base-image", "other than latest"}},

		{"cloudrun timeout 0", generator.CloudRun, func(in *generator.Inputs) { in.TimeoutSeconds = 0 }, []string{"--timeout 0", "1 to 3600 seconds"}},
		{"cloudrun timeout 3601", generator.CloudRun, func(in *generator.Inputs) { in.TimeoutSeconds = 3601 }, []string{"--timeout 3601", "1 to 3600 seconds"}},
		{"cloudrun name uppercase", generator.CloudRun, func(in *generator.Inputs) { in.Name = "Worker" }, []string{`--name "Worker"`, "lowercase"}},
		{"cloudrun name starts with digit", generator.CloudRun, func(in *generator.Inputs) { in.Name = "1worker" }, []string{"--name", "starting with a letter"}},
		{"cloudrun name ends with hyphen", generator.CloudRun, func(in *generator.Inputs) { in.Name = "worker-" }, []string{"--name", "not ending with a hyphen"}},
		{"cloudrun name underscore", generator.CloudRun, func(in *generator.Inputs) { in.Name = "my_worker" }, []string{"--name", "letters, digits or hyphens"}},
		{"cloudrun name 50 chars", generator.CloudRun, func(in *generator.Inputs) { in.Name = long(50) }, []string{"--name", "1 to 49"}},
		{"cloudrun cpu 3", generator.CloudRun, func(in *generator.Inputs) { in.CPU = "3" }, []string{`--cpu "3"`, "1, 2, 4 or 8"}},
		{"cloudrun cpu 1 memory 4097", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "1", 4097 }, []string{"--memory 4097", "--cpu 1", "512 to 4096 MiB"}},
		{"cloudrun cpu 2 memory 511", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "2", 511 }, []string{"--memory 511", "--cpu 2", "512 to 8192 MiB"}},
		{"cloudrun cpu 4 memory 2047", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "4", 2047 }, []string{"--memory 2047", "--cpu 4", "2048 to 16384 MiB"}},
		{"cloudrun cpu 8 memory 32769", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "8", 32769 }, []string{"--memory 32769", "--cpu 8", "4096 to 32768 MiB"}},
		{"cloudrun concurrency 0", generator.CloudRun, func(in *generator.Inputs) { in.Concurrency = 0 }, []string{"--concurrency 0", "1 to 1000"}},
		{"cloudrun concurrency 1001", generator.CloudRun, func(in *generator.Inputs) { in.Concurrency = 1001 }, []string{"--concurrency 1001", "1 to 1000"}},
		{"cloudrun max instances 0", generator.CloudRun, func(in *generator.Inputs) { in.MaxInstances = 0 }, []string{"--max-instances 0", "1 to 1000"}},
		{"cloudrun max instances 1001", generator.CloudRun, func(in *generator.Inputs) { in.MaxInstances = 1001 }, []string{"--max-instances 1001", "1 to 1000"}},
		{"cloudrun project and image missing", generator.CloudRun, func(in *generator.Inputs) { in.Project = "" }, []string{"--project or --image is needed"}},
		{"cloudrun project uppercase", generator.CloudRun, func(in *generator.Inputs) { in.Project = "My-Project" }, []string{`--project "My-Project"`, "6 to 30 lowercase"}},
		{"cloudrun project too short", generator.CloudRun, func(in *generator.Inputs) { in.Project = "proj" }, []string{"--project", "6 to 30"}},
		{"cloudrun region", generator.CloudRun, func(in *generator.Inputs) { in.Region = "us-east-1" }, []string{`--region "us-east-1"`, "Cloud Run region"}},
		{"cloudrun bucket", generator.CloudRun, func(in *generator.Inputs) { in.JobBucket = "Bad Bucket" }, []string{"--job-bucket", "Cloud Storage bucket"}},
		{"cloudrun job path outside the job bucket", generator.CloudRun, func(in *generator.Inputs) {
			in.SetKind(generator.KindJob)
			in.JobBucket, in.JobPath = "my-jobs", "gs://other/j.json"
		}, []string{`--job-path "gs://other/j.json" is outside --job-bucket`, "below gs://my-jobs/ only", "HELIOS_ALLOWED_JOB_PATHS"}},
		{"cloudrun job path in a bucket of a longer name", generator.CloudRun, func(in *generator.Inputs) {
			in.SetKind(generator.KindJob)
			in.JobBucket, in.JobPath = "my-jobs", "gs://my-jobs-evil/j.json"
		}, []string{"--job-path", "outside --job-bucket"}},
		{"cloudrun job path https with a job bucket", generator.CloudRun, func(in *generator.Inputs) {
			in.SetKind(generator.KindJob)
			in.JobBucket, in.JobPath = "my-jobs", "https://my-jobs.example/j.json"
		}, []string{"--job-path", "outside --job-bucket"}},
		{"cloudrun output url s3", generator.CloudRun, func(in *generator.Inputs) { in.OutputURL = "s3://b-out/x" }, []string{"--output-url", "gs://BUCKET/PREFIX"}},
		{"cloudrun output url bucket", generator.CloudRun, func(in *generator.Inputs) { in.OutputURL = "gs://B/x" }, []string{"--output-url", `"B" is not a valid bucket`}},
		{"aws output url gs", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "gs://b-out/x" }, []string{"--output-url", "s3://BUCKET/PREFIX"}},
		{"aws output url path", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "/srv/out" }, []string{"--output-url", "s3://BUCKET/PREFIX"}},
		{"aws output url no bucket", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3:///out" }, []string{"--output-url", "not a valid bucket"}},
		{"aws output url wildcard", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://b-out/*" }, []string{"--output-url", "the prefix is folders"}},
		{"aws output url dot dot", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://b-out/a/../b" }, []string{"--output-url", "no . or .."}},
		{"aws output url empty folder", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://b-out/a//b" }, []string{"--output-url", "the prefix"}},
		{"aws output url quote", generator.AWS, func(in *generator.Inputs) { in.OutputURL = `s3://b-out/a"b` }, []string{"--output-url", "the prefix"}},
		{"cloudrun image latest", generator.CloudRun, func(in *generator.Inputs) { in.Image = "gcr.io/p/img:latest" }, []string{`--image "gcr.io/p/img:latest"`, "other than latest"}},
		{"cloudrun image no tag", generator.CloudRun, func(in *generator.Inputs) { in.Image = "localhost:5000/img" }, []string{"--image", "pin a tag or a digest"}},
		{"cloudrun image empty tag", generator.CloudRun, func(in *generator.Inputs) { in.Image = "gcr.io/p/img:" }, []string{"--image", "not an image reference"}},
		{"cloudrun image with space", generator.CloudRun, func(in *generator.Inputs) { in.Image = "img:v1 ; rm" }, []string{"--image", "not an image reference"}},
		{"cloudrun image uppercase", generator.CloudRun, func(in *generator.Inputs) { in.Image = "gcr.io/P/Img:v1" }, []string{"--image", "not an image reference"}},
		{"cloudrun image bad digest", generator.CloudRun, func(in *generator.Inputs) { in.Image = "gcr.io/p/img@sha256:abc" }, []string{"--image", "not an image reference"}},
		{"cloudrun service account not email", generator.CloudRun, func(in *generator.Inputs) { in.ServiceAccount = "worker" }, []string{`--service-account "worker"`, "NAME@PROJECT.iam.gserviceaccount.com"}},
		{"cloudrun service account other domain", generator.CloudRun, func(in *generator.Inputs) { in.ServiceAccount = "worker@example.com" }, []string{"--service-account", "service account email"}},
		{"cloudrun arch", generator.CloudRun, func(in *generator.Inputs) { in.Arch = "arm64" }, []string{"--arch", "are for aws"}},
		{"cloudrun ephemeral storage", generator.CloudRun, func(in *generator.Inputs) { in.EphemeralStorageMB = 1024 }, []string{"--ephemeral-storage", "are for aws"}},
		{"aws orchestrator", generator.AWS, func(in *generator.Inputs) { in.Orchestrator = "airflow" }, []string{`--orchestrator "airflow"`, "none or stepfunctions"}},
		{"aws max concurrency without the state machine", generator.AWS, func(in *generator.Inputs) { in.MaxConcurrency = 10 }, []string{"--max-concurrency is for --orchestrator stepfunctions"}},
		{"aws stepfunctions max concurrency 0", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.MaxConcurrency = 0
		}, []string{"--max-concurrency 0", "1 to 10000"}},
		{"aws stepfunctions max concurrency 10001", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.MaxConcurrency = 10001
		}, []string{"--max-concurrency 10001", "1 to 10000"}},
		{"aws stepfunctions without a job bucket", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.JobBucket = ""
		}, []string{"--orchestrator stepfunctions needs --job-bucket", "chunk list", "s3://BUCKET/helios-run/results/"}},
		{"aws stepfunctions without an output url", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.OutputURL = ""
		}, []string{"--orchestrator stepfunctions needs --output-url"}},
		{"cloudrun orchestrator", generator.CloudRun, func(in *generator.Inputs) { in.Orchestrator = generator.OrchestratorStepFunctions }, []string{"--orchestrator and --max-concurrency are for aws"}},
		{"cloudrun max concurrency", generator.CloudRun, func(in *generator.Inputs) { in.MaxConcurrency = 5 }, []string{"--orchestrator and --max-concurrency are for aws"}},

		{"unknown target", "azure", func(*generator.Inputs) {}, []string{`unknown target "azure"`, "aws or cloudrun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInputs(tt.target)
			tt.edit(&in)
			err := in.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error", in)
			}
			if !errors.Is(err, generator.ErrInput) {
				t.Errorf("errors.Is(%v, ErrInput) = false", err)
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 {
				t.Errorf("one bad input gave %d errors: %q", len(lines), lines)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	in := validInputs(generator.AWS)
	in.TimeoutSeconds, in.MemoryMB, in.Arch = 0, 1, "mips"
	err := in.Validate()
	for _, flag := range []string{"--timeout", "--memory", "--arch"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate = %v, want an error about %s", err, flag)
		}
	}
}

func TestValidateAcceptsBoundaries(t *testing.T) {
	tests := []struct {
		name   string
		target generator.Target
		edit   func(*generator.Inputs)
	}{
		{"aws timeout 1", generator.AWS, func(in *generator.Inputs) { in.TimeoutSeconds = 1 }},
		{"aws timeout 900", generator.AWS, func(in *generator.Inputs) { in.TimeoutSeconds = 900 }},
		{"aws memory 128", generator.AWS, func(in *generator.Inputs) { in.MemoryMB = 128 }},
		{"aws memory 10240", generator.AWS, func(in *generator.Inputs) { in.MemoryMB = 10240 }},
		{"aws storage 512", generator.AWS, func(in *generator.Inputs) { in.EphemeralStorageMB = 512 }},
		{"aws storage 10240", generator.AWS, func(in *generator.Inputs) { in.EphemeralStorageMB = 10240 }},
		{"aws x86_64 zip", generator.AWS, func(in *generator.Inputs) { in.Arch, in.Package = "x86_64", "zip" }},
		{"aws name 64 chars", generator.AWS, func(in *generator.Inputs) { in.Name = strings.Repeat("A_", 32) }},
		{"aws name 1 char", generator.AWS, func(in *generator.Inputs) { in.Name = "7" }},
		{"aws gov region", generator.AWS, func(in *generator.Inputs) { in.Region = "us-gov-west-1" }},
		{"aws bucket", generator.AWS, func(in *generator.Inputs) { in.JobBucket = "my.job-bucket.1" }},
		{"aws base image digest", generator.AWS, func(in *generator.Inputs) {
			in.BaseImage = "public.ecr.aws/lambda/provided@sha256:" + strings.Repeat("ab", 32)
		}},
		{"aws no base image", generator.AWS, func(in *generator.Inputs) { in.BaseImage = "" }},

		{"cloudrun timeout 3600", generator.CloudRun, func(in *generator.Inputs) { in.TimeoutSeconds = 3600 }},
		{"cloudrun name 49 chars", generator.CloudRun, func(in *generator.Inputs) { in.Name = "a" + strings.Repeat("-b", 24) }},
		{"cloudrun name 1 char", generator.CloudRun, func(in *generator.Inputs) { in.Name = "w" }},
		{"cloudrun cpu 1 memory 512", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "1", 512 }},
		{"cloudrun cpu 1 memory 4096", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "1", 4096 }},
		{"cloudrun cpu 4 memory 2048", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "4", 2048 }},
		{"cloudrun cpu 8 memory 32768", generator.CloudRun, func(in *generator.Inputs) { in.CPU, in.MemoryMB = "8", 32768 }},
		{"cloudrun concurrency 1000", generator.CloudRun, func(in *generator.Inputs) { in.Concurrency = 1000 }},
		{"cloudrun max instances 1", generator.CloudRun, func(in *generator.Inputs) { in.MaxInstances = 1 }},
		{"cloudrun image instead of project", generator.CloudRun, func(in *generator.Inputs) { in.Project, in.Image = "", "ghcr.io/me/worker:v1.2" }},
		{"cloudrun image with registry port", generator.CloudRun, func(in *generator.Inputs) { in.Image = "localhost:5000/worker:v1" }},
		{"cloudrun project 30 chars", generator.CloudRun, func(in *generator.Inputs) { in.Project = "p" + strings.Repeat("-9", 14) + "z" }},
		{"cloudrun two-digit region", generator.CloudRun, func(in *generator.Inputs) { in.Region = "europe-west10" }},
		{"cloudrun long region", generator.CloudRun, func(in *generator.Inputs) { in.Region = "northamerica-northeast1" }},
		{"cloudrun service account", generator.CloudRun, func(in *generator.Inputs) { in.ServiceAccount = "helios-worker@my-project.iam.gserviceaccount.com" }},
		{"aws image repository", generator.AWS, func(in *generator.Inputs) {
			in.Image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/helios/render-worker"
		}},
		{"cloudrun default compute service account", generator.CloudRun, func(in *generator.Inputs) { in.ServiceAccount = "123456789012-compute@developer.gserviceaccount.com" }},
		{"cloudrun bucket", generator.CloudRun, func(in *generator.Inputs) { in.JobBucket = "my_jobs.example" }},
		{"cloudrun job path in the job bucket", generator.CloudRun, func(in *generator.Inputs) {
			in.SetKind(generator.KindJob)
			in.JobBucket, in.JobPath = "my-jobs", "gs://my-jobs/intro/job.json"
		}},
		{"cloudrun https job path without a job bucket", generator.CloudRun, func(in *generator.Inputs) {
			in.SetKind(generator.KindJob)
			in.JobPath = "https://my-jobs.example/j.json"
		}},
		{"aws output bucket", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://my-outputs" }},
		{"aws output bucket slash", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://my-outputs/" }},
		{"aws output prefix", generator.AWS, func(in *generator.Inputs) { in.OutputURL = "s3://my-outputs/renders/2026_v1.2/" }},
		{"cloudrun output prefix", generator.CloudRun, func(in *generator.Inputs) { in.OutputURL = "gs://my_outputs/renders/x" }},
		{"aws orchestrator none", generator.AWS, func(in *generator.Inputs) { in.Orchestrator = generator.OrchestratorNone }},
		{"aws stepfunctions", generator.AWS, withStateMachine},
		{"aws stepfunctions max concurrency 1", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.MaxConcurrency = 1
		}},
		{"aws stepfunctions max concurrency 10000", generator.AWS, func(in *generator.Inputs) {
			withStateMachine(in)
			in.MaxConcurrency = 10000
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInputs(tt.target)
			tt.edit(&in)
			if err := in.Validate(); err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", in, err)
			}
		})
	}
}

func TestAllowedJobPaths(t *testing.T) {
	for _, tc := range []struct {
		target        generator.Target
		bucket, allow string
	}{
		{generator.AWS, "", ""},
		{generator.AWS, "my-jobs", "s3://my-jobs/"},
		{generator.CloudRun, "", ""},
		{generator.CloudRun, "my_jobs.example", "gs://my_jobs.example/"},
	} {
		in := validInputs(tc.target)
		in.JobBucket = tc.bucket
		if got := in.AllowedJobPaths(); got != tc.allow {
			t.Errorf("%s --job-bucket %q: AllowedJobPaths() = %q, want %q", tc.target, tc.bucket, got, tc.allow)
		}
	}
}

func TestOutputBucketAndPrefix(t *testing.T) {
	for _, tc := range []struct{ url, bucket, prefix string }{
		{"", "", ""},
		{"s3://out", "out", ""},
		{"s3://out/", "out", ""},
		{"s3://out/renders", "out", "renders"},
		{"gs://out/renders/2026/", "out", "renders/2026"},
	} {
		in := generator.Inputs{OutputURL: tc.url}
		if b, p := in.OutputBucket(), in.OutputPrefix(); b != tc.bucket || p != tc.prefix {
			t.Errorf("%q: bucket %q prefix %q, want %q %q", tc.url, b, p, tc.bucket, tc.prefix)
		}
	}
}

func TestSetKind(t *testing.T) {
	in := generator.Defaults(generator.CloudRun)
	in.Project, in.Name, in.OutputURL, in.Concurrency = "my-project", "render", "gs://out/x", 4
	in.SetKind(generator.KindJob)
	if in.Kind != generator.KindJob || in.Tasks != 1 || in.MaxRetries != 3 || in.TimeoutSeconds != 3600 ||
		in.Concurrency != 0 || in.MaxInstances != 0 || in.Name != "render" || in.OutputURL != "gs://out/x" {
		t.Fatalf("service to job: %+v", in)
	}
	if err := in.Validate(); err != nil {
		t.Errorf("the job does not validate: %v", err)
	}
	in.Tasks, in.TimeoutSeconds, in.JobPath = 7, 7200, "gs://jobs/j.json"
	in.SetKind(generator.KindJob) // again: nothing set is lost
	if in.Tasks != 7 || in.TimeoutSeconds != 7200 {
		t.Errorf("job to job: %+v", in)
	}
	in.SetKind(generator.KindService)
	if in.Kind != generator.KindService || in.Tasks != 0 || in.JobPath != "" || in.TimeoutSeconds != 900 ||
		in.Concurrency != 1 || in.MaxInstances != 100 {
		t.Fatalf("job to service: %+v", in)
	}
	if err := in.Validate(); err != nil {
		t.Errorf("the service does not validate: %v", err)
	}
	in.TimeoutSeconds = 1200
	in.SetKind(generator.KindJob)
	if in.TimeoutSeconds != 1200 {
		t.Errorf("a chosen timeout was replaced: %d", in.TimeoutSeconds)
	}
}
