package cli

import (
	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

func newInitCloudRunCmd() *cobra.Command {
	cmd := newInitTargetCmd(generator.CloudRun, []inputFlag{
		{"project", "Google Cloud project ID; names the default image", func(in *generator.Inputs) any { return &in.Project }},
		{"image", "image of the service (default REGION-docker.pkg.dev/PROJECT/helios/NAME:v1)", func(in *generator.Inputs) any { return &in.Image }},
		{"cpu", "CPUs per instance: 1, 2, 4 or 8", func(in *generator.Inputs) any { return &in.CPU }},
		{"memory", "memory per instance in MiB (512 to 32768, by CPU)", func(in *generator.Inputs) any { return &in.MemoryMB }},
		{"concurrency", "requests per instance; 1 suits render chunks", func(in *generator.Inputs) any { return &in.Concurrency }},
		{"max-instances", "most instances at once", func(in *generator.Inputs) any { return &in.MaxInstances }},
		{"service-account", "service account the service runs as (email)", func(in *generator.Inputs) any { return &in.ServiceAccount }},
	})
	cmd.Use = "cloudrun"
	cmd.Short = "Render a Cloud Run worker: cmd/<name>, service.yaml (Knative), Dockerfile"
	cmd.Long = `init cloudrun renders a Google Cloud Run render worker:

  cmd/<name>/main.go    the entry point (generated; rewritten by go generate)
  cmd/<name>/worker.go  where you configure the worker (yours; never rewritten)
  service.yaml          serving.knative.dev/v1 Service for gcloud run services replace:
                        gen2, containerConcurrency 1, no public invoker
  Dockerfile            linux/amd64, non-root, and .dockerignore
  go.mod                requiring the runtime and running helios-scaffold as a tool
  .helios-scaffold.json the recorded inputs and file hashes

The --timeout is at most 3600 seconds.`
	cmd.Example = `  # A new repository:
  helios-scaffold init cloudrun --dir render --module example.com/render --project my-project

  # Bigger instances in Europe:
  helios-scaffold init cloudrun --region europe-west1 --cpu 4 --memory 8192 --timeout 3600`
	return cmd
}
