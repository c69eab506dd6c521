package cli

import (
	"github.com/spf13/cobra"
)

func newGenerateCmd() *cobra.Command {
	var (
		dir   string
		check bool
		write writeOptions
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Re-render the files from the recorded answers (what go generate runs)",
		Long: `generate finds .helios-scaffold.json in --dir or the nearest parent
directory, renders the files again from the inputs it records, and writes
those that changed. A tool file you have edited is kept and reported.

With --check it writes nothing and exits 4 when any file would change, a
drift check for CI.`,
		Example: `  # In a scaffolded repository (main.go carries //go:generate go tool helios-scaffold generate):
  go generate ./...

  # In CI, fail when the generated files are out of date:
  go tool helios-scaffold generate --check`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, prev, err := loadAnswers(dir)
			if err != nil {
				return err
			}
			mode := generateMode
			if check {
				mode = checkMode
			}
			return scaffold(cmd, root, prev.Inputs, prev, write, mode)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "where to look for .helios-scaffold.json (then in its parents)")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 4 if any file would change")
	write.register(cmd.Flags())
	return cmd
}
