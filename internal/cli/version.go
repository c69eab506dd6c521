package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of helios-scaffold and of the runtime it generates for",
		Example: "  go tool helios-scaffold version",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "helios-scaffold %s (%s)\n", generator.Version(), generator.ModulePath)
			return err
		},
	}
}
