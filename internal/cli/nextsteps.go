package cli

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/helios-project/helios-scaffold/generator"
)

// printNextSteps tells how to run the worker locally, then deploy it.
func printNextSteps(w io.Writer, dir string, in generator.Inputs) error {
	ew := &errWriter{w: w}
	ew.printf("\nNext steps:\n")
	if filepath.Clean(dir) != "." {
		ew.printf("  cd %s\n", shellQuote(dir))
	}
	ew.printf("  go mod tidy                      # fetch the runtime's dependencies\n")
	switch in.Target {
	case generator.AWS:
		ew.printf("  # run one chunk locally (stdin mode), with a job spec of yours:\n")
		ew.printf("  echo '{\"jobPath\":\"job.json\",\"chunkIndex\":0}' | go run ./cmd/%s\n", in.Name)
		ew.printf("  sam validate --lint\n")
		ew.printf("  sam build && sam deploy          # settings in samconfig.toml (region %s)\n", in.Region)
		if in.HasStateMachine() {
			ew.printf("  # render a job on the state machine %s, then follow it (--redrive if it failed):\n", in.StateMachineName())
			ew.printf("  helios-scaffold run job.json --detach\n")
			ew.printf("  helios-scaffold run job.json --attach EXECUTION_ARN\n")
		}
	case generator.CloudRun:
		if in.IsJob() {
			printJobSteps(ew, in)
		} else {
			printCloudRunSteps(ew, in)
		}
	}
	ew.printf("  # after go get -u %s, bring the entry point in line:\n", generator.ModulePath)
	ew.printf("  go generate ./...\n")
	return ew.err
}

// printCloudRunSteps prints the local run, the image build and the deploy.
func printCloudRunSteps(ew *errWriter, in generator.Inputs) {
	project := ""
	if in.Project != "" {
		project = " --project " + in.Project
	}
	ew.printf("  # serve locally, then post a chunk to it from another shell:\n")
	ew.printf("  PORT=8080 go run ./cmd/%s\n", in.Name)
	ew.printf("  curl -s localhost:8080 -d '{\"jobPath\":\"job.json\",\"chunkIndex\":0}'\n")
	ew.printf("  # build the image and deploy the service:\n")
	if in.Image == "" {
		ew.printf("  gcloud artifacts repositories create helios --repository-format docker --location %s%s  # once\n", in.Region, project)
	}
	ew.printf("  gcloud builds submit --tag %s%s\n", generator.ServiceImage(in), project)
	ew.printf("  gcloud run services replace service.yaml --region %s%s\n", in.Region, project)
	ew.printf("  # let your invoker's service account call it (there is no public invoker):\n")
	ew.printf("  gcloud run services add-iam-policy-binding %s --region %s%s \\\n", in.Name, in.Region, project)
	ew.printf("      --member serviceAccount:INVOKER_EMAIL --role roles/run.invoker\n")
	printBucketGrants(ew, in)
}

// printJobSteps prints a local run of one task, the image build, the
// job's deployment and an execution.
func printJobSteps(ew *errWriter, in generator.Inputs) {
	project := ""
	if in.Project != "" {
		project = " --project " + in.Project
	}
	jobPath := in.JobPath
	if jobPath == "" {
		jobPath = "gs://BUCKET/job.json"
	}
	ew.printf("  # run task 0 of 1 locally (every chunk), with a job spec of yours:\n")
	ew.printf("  HELIOS_JOB_PATH=job.json CLOUD_RUN_TASK_INDEX=0 CLOUD_RUN_TASK_COUNT=1 go run ./cmd/%s\n", in.Name)
	ew.printf("  # build the image, deploy the job, and render a spec with it:\n")
	if in.Image == "" {
		ew.printf("  gcloud artifacts repositories create helios --repository-format docker --location %s%s  # once\n", in.Region, project)
	}
	ew.printf("  gcloud builds submit --tag %s%s\n", generator.ServiceImage(in), project)
	ew.printf("  gcloud run jobs replace job.yaml --region %s%s\n", in.Region, project)
	ew.printf("  gcloud run jobs execute %s --region %s%s \\\n", in.Name, in.Region, project)
	ew.printf("      --update-env-vars HELIOS_JOB_PATH=%s --tasks %d\n", jobPath, in.Tasks)
	printBucketGrants(ew, in)
}

// printBucketGrants prints the bindings that let the service's account
// read --job-bucket and create objects below --output-url, and no more.
func printBucketGrants(ew *errWriter, in generator.Inputs) {
	sa := in.ServiceAccount
	if sa == "" {
		sa = "SERVICE_ACCOUNT_EMAIL"
	}
	who := "service"
	if in.IsJob() {
		who = "job"
	}
	if in.JobBucket != "" {
		ew.printf("  # let the %s read job specs and assets:\n", who)
		printGrant(ew, in.JobBucket, "", sa, "roles/storage.objectViewer")
	}
	if in.OutputURL == "" {
		return
	}
	ew.printf("  # let the %s create chunk outputs below %s (and nothing else):\n", who, in.OutputURL)
	printGrant(ew, in.OutputBucket(), in.OutputPrefix(), sa, "roles/storage.objectCreator")
	if in.IsJob() {
		ew.printf("  # and see them, so that a retried task skips the chunks already there:\n")
		printGrant(ew, in.OutputBucket(), in.OutputPrefix(), sa, "roles/storage.objectViewer")
	}
}

// printGrant prints the binding of role on bucket for the service account,
// conditioned on prefix when there is one.
func printGrant(ew *errWriter, bucket, prefix, sa, role string) {
	ew.printf("  gcloud storage buckets add-iam-policy-binding gs://%s \\\n", bucket)
	if prefix == "" {
		ew.printf("      --member serviceAccount:%s --role %s\n", sa, role)
		return
	}
	ew.printf("      --member serviceAccount:%s --role %s \\\n", sa, role)
	ew.printf("      --condition 'title=helios-outputs,expression=resource.name.startsWith(\"projects/_/buckets/%s/objects/%s/\")'\n",
		bucket, prefix)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
