package cli

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree; cobra adds help and completion.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "helios-scaffold",
		Short: "Scaffold a Helios render worker for AWS Lambda or Google Cloud Run",
		Long: `helios-scaffold renders a Helios render worker into a Go repository: the
entry point, a Dockerfile, and the SAM template.yaml (AWS Lambda) or the
Knative service.yaml (Cloud Run). It records its inputs in .helios-scaffold.json
so that go generate re-renders the files, keeping any file you have edited.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          usageArgs(cobra.NoArgs),
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCmd(), newGenerateCmd(), newRenderCmd(), newRunCmd(), newVersionCmd())
	return root
}
