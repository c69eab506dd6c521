package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

func newInitCloudRunCmd() *cobra.Command {
	cmd, o := newInitTargetCmd(generator.CloudRun, []inputFlag{
		{"kind", "service (one chunk per request) or job (each task renders its share of a spec's chunks)", func(in *generator.Inputs) any { return &in.Kind }},
		{"project", "Google Cloud project ID; names the default image (default: CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, or gcloud's configured project)", func(in *generator.Inputs) any { return &in.Project }},
		{"image", "image of the service or job (default REGION-docker.pkg.dev/PROJECT/helios/NAME:v1)", func(in *generator.Inputs) any { return &in.Image }},
		{"cpu", "CPUs per instance: 1, 2, 4 or 8", func(in *generator.Inputs) any { return &in.CPU }},
		{"memory", "memory per instance in MiB (512 to 32768, by CPU)", func(in *generator.Inputs) any { return &in.MemoryMB }},
		{"concurrency", "service: requests per instance; 1 suits render chunks", func(in *generator.Inputs) any { return &in.Concurrency }},
		{"max-instances", "service: most instances at once", func(in *generator.Inputs) any { return &in.MaxInstances }},
		{"service-account", "service account the service or job runs as (email)", func(in *generator.Inputs) any { return &in.ServiceAccount }},
		{"tasks", "job: tasks per execution, 1 to 10000 (1 for a new job); task i renders chunks i, i+tasks, ...", func(in *generator.Inputs) any { return &in.Tasks }},
		{"parallelism", "job: tasks at once; 0 lets Cloud Run run as many as it can", func(in *generator.Inputs) any { return &in.Parallelism }},
		{"max-retries", "job: retries of a failed task, 0 to 10 (3 for a new job)", func(in *generator.Inputs) any { return &in.MaxRetries }},
		{"job-path", "job: the spec its tasks render, gs://BUCKET/OBJECT (HELIOS_JOB_PATH; gcloud run jobs execute --update-env-vars can name another)", func(in *generator.Inputs) any { return &in.JobPath }},
	})
	var tasksFrom string
	cmd.Flags().StringVar(&tasksFrom, "tasks-from", "", "job: set --tasks to the chunk count of this local job spec (helios render --emit-job writes one)")
	o.prepare = func(cmd *cobra.Command, in *generator.Inputs) error {
		if tasksFrom != "" {
			if err := tasksFromSpec(in, tasksFrom); err != nil {
				return err
			}
		}
		if in.Project == "" && in.Image == "" {
			project, from := findProject(cmd.Context())
			if project != "" {
				in.Project = project
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "note: project %s, from %s\n", project, from); err != nil {
					return err
				}
			}
		}
		return nil
	}
	cmd.Use = "cloudrun"
	cmd.Short = "Render a Cloud Run worker: cmd/<name>, service.yaml or job.yaml, Dockerfile"
	cmd.Long = `init cloudrun renders a Google Cloud Run render worker, a service
(--kind service, the default) or a job (--kind job):

  cmd/<name>/main.go    the entry point (generated; rewritten by go generate)
  cmd/<name>/worker.go  where you configure the worker (yours; never rewritten)
  service.yaml          a service: serving.knative.dev/v1 Service for gcloud run
                        services replace; gen2, containerConcurrency 1, no public invoker
  job.yaml              a job: run.googleapis.com/v1 Job for gcloud run jobs replace;
                        taskCount, parallelism, maxRetries, the task timeout
  Dockerfile            linux/amd64, non-root, and .dockerignore
  go.mod                requiring the runtime and running helios-scaffold as a tool
  .helios-scaffold.json the recorded inputs and file hashes

The --timeout is at most 3600 seconds for a service (a request), 604800 for
a job (a task). Without --project or --image, the project comes from
CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT or gcloud config get-value project.
Switching --kind keeps worker.go; the other kind's files are reported stale.`
	cmd.Example = `  # A new repository:
  helios-scaffold init cloudrun --dir render --module example.com/render --project my-project

  # Bigger instances in Europe:
  helios-scaffold init cloudrun --region europe-west1 --cpu 4 --memory 8192 --timeout 3600

  # A job with one task per chunk of a spec emitted by helios render --emit-job:
  helios-scaffold init cloudrun --kind job --tasks-from job.json --parallelism 10 \
    --job-path gs://my-render-jobs/job.json --output-url gs://my-render-outputs/renders`
	return cmd
}
