package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

// newRenderCmd builds render, which prints the files that the recorded
// answers render, as JSON, and writes nothing. Its output is a stable
// interface ([generator.RenderOutput]): a later version of helios-scaffold
// runs this one's render to find what it wrote, the base of a merge.
func newRenderCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print what the recorded answers render, as JSON, writing nothing (later versions merge your edits with it)",
		Long: `render finds .helios-scaffold.json in --dir or the nearest parent, renders
its inputs with this version's templates, and prints
{"version": ..., "files": {path: content}} on standard output. It writes
nothing. Its output is stable across versions: after an upgrade, generate
runs the recorded version's render (offline, from the module cache) to
find what that version wrote, and merges your edits with the new render.`,
		Example: `  go run github.com/helios-project/helios-scaffold@v1.2.3 render --dir . | jq -r '.files["template.yaml"]'`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, prev, err := loadAnswers(dir)
			if err != nil {
				return err
			}
			files, err := generator.Render(prev.Inputs)
			if err != nil {
				return err
			}
			out := generator.RenderOutput{Version: generator.Version(), Files: map[string]string{}}
			for name, f := range files {
				out.Files[name] = string(f.Data)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "where to look for .helios-scaffold.json (then in its parents)")
	return cmd
}
