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
	case generator.CloudRun:
		printCloudRunSteps(ew, in)
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

// printBucketGrants prints the bindings that let the service's account
// read --job-bucket and create objects below --output-url, and no more.
func printBucketGrants(ew *errWriter, in generator.Inputs) {
	sa := in.ServiceAccount
	if sa == "" {
		sa = "SERVICE_ACCOUNT_EMAIL"
	}
	if in.JobBucket != "" {
		ew.printf("  # let the service read job specs and assets:\n")
		ew.printf("  gcloud storage buckets add-iam-policy-binding gs://%s \\\n", in.JobBucket)
		ew.printf("      --member serviceAccount:%s --role roles/storage.objectViewer\n", sa)
	}
	if in.OutputURL == "" {
		return
	}
	ew.printf("  # let the service create chunk outputs below %s (and nothing else):\n", in.OutputURL)
	ew.printf("  gcloud storage buckets add-iam-policy-binding gs://%s \\\n", in.OutputBucket())
	if p := in.OutputPrefix(); p != "" {
		ew.printf("      --member serviceAccount:%s --role roles/storage.objectCreator \\\n", sa)
		ew.printf("      --condition 'title=helios-outputs,expression=resource.name.startsWith(\"projects/_/buckets/%s/objects/%s/\")'\n",
			in.OutputBucket(), p)
	} else {
		ew.printf("      --member serviceAccount:%s --role roles/storage.objectCreator\n", sa)
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
