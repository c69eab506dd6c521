package cli

import (
	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

func newInitAWSCmd() *cobra.Command {
	cmd, o := newInitTargetCmd(generator.AWS, []inputFlag{
		{"arch", "Lambda architecture: arm64 or x86_64", func(in *generator.Inputs) any { return &in.Arch }},
		{"package", "Lambda package type: image (room for a browser or ffmpeg) or zip", func(in *generator.Inputs) any { return &in.Package }},
		{"memory", "Lambda memory in MB (128 to 10240)", func(in *generator.Inputs) any { return &in.MemoryMB }},
		{"ephemeral-storage", "Lambda /tmp size in MB (512 to 10240)", func(in *generator.Inputs) any { return &in.EphemeralStorageMB }},
		{"image", "ECR repository that sam deploy pushes the image to (default: one sam deploy creates)", func(in *generator.Inputs) any { return &in.Image }},
		{"orchestrator", "none, or stepfunctions: a Step Functions state machine in template.yaml that renders a whole job without its caller (a Distributed Map over the chunks, then the merge); needs --job-bucket and --output-url", func(in *generator.Inputs) any { return &in.Orchestrator }},
		{"max-concurrency", "--orchestrator stepfunctions: chunks rendered at once, 1 to 10000 (default 100)", func(in *generator.Inputs) any { return &in.MaxConcurrency }},
	})
	// A new orchestrator brings its default concurrency, or clears it,
	// unless --max-concurrency says otherwise.
	o.prepare = func(cmd *cobra.Command, in *generator.Inputs) error {
		if cmd.Flags().Changed("orchestrator") && !cmd.Flags().Changed("max-concurrency") {
			in.SetOrchestrator(in.Orchestrator)
		}
		return nil
	}
	cmd.Use = "aws"
	cmd.Short = "Render an AWS Lambda worker: cmd/<name>, template.yaml (SAM), Dockerfile"
	cmd.Long = `init aws renders an AWS Lambda render worker:

  cmd/<name>/main.go    the entry point (generated; rewritten by go generate)
  cmd/<name>/worker.go  where you configure the worker (yours; never rewritten)
  template.yaml         the SAM template: provided.al2023, JSON logs, least-privilege IAM
  samconfig.toml        sam deploy settings: stack name, --region, the image repository
  Dockerfile            with --package image (the default), and .dockerignore
  Makefile              with --package zip, for sam build
  go.mod                requiring the runtime and running helios-scaffold as a tool
  .helios-scaffold.json the recorded inputs and file hashes

The --timeout is at most 900 seconds. With --orchestrator stepfunctions,
template.yaml also holds a Step Functions state machine that renders a whole
job without its caller: a Distributed Map over the chunk list, then the
merge, with a role of its own.`
	cmd.Example = `  # A new repository, arm64, container image:
  helios-scaffold init aws --dir render --module example.com/render --name render-worker

  # More memory and /tmp, and read access to the bucket of job specs:
  helios-scaffold init aws --memory 4096 --ephemeral-storage 8192 --job-bucket my-render-jobs

  # A Step Functions state machine that renders whole jobs, 200 chunks at once:
  helios-scaffold init aws --orchestrator stepfunctions --max-concurrency 200 \
    --job-bucket my-render-jobs --output-url s3://my-render-outputs/renders

  # Preview what a change would do:
  helios-scaffold init aws --arch x86_64 --diff`
	return cmd
}
