package cli

import (
	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

func newInitAWSCmd() *cobra.Command {
	cmd, _ := newInitTargetCmd(generator.AWS, []inputFlag{
		{"arch", "Lambda architecture: arm64 or x86_64", func(in *generator.Inputs) any { return &in.Arch }},
		{"package", "Lambda package type: image (room for a browser or ffmpeg) or zip", func(in *generator.Inputs) any { return &in.Package }},
		{"memory", "Lambda memory in MB (128 to 10240)", func(in *generator.Inputs) any { return &in.MemoryMB }},
		{"ephemeral-storage", "Lambda /tmp size in MB (512 to 10240)", func(in *generator.Inputs) any { return &in.EphemeralStorageMB }},
		{"image", "ECR repository that sam deploy pushes the image to (default: one sam deploy creates)", func(in *generator.Inputs) any { return &in.Image }},
	})
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

The --timeout is at most 900 seconds.`
	cmd.Example = `  # A new repository, arm64, container image:
  helios-scaffold init aws --dir render --module example.com/render --name render-worker

  # More memory and /tmp, and read access to the bucket of job specs:
  helios-scaffold init aws --memory 4096 --ephemeral-storage 8192 --job-bucket my-render-jobs

  # Preview what a change would do:
  helios-scaffold init aws --arch x86_64 --diff`
	return cmd
}
