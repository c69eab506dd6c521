package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/helios-project/helios-scaffold/generator"
)

func newInitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init aws|cloudrun",
		Short: "Render a render worker for a platform into a repository",
		Long: `init renders a Helios render worker into a repository (the current
directory unless --dir says otherwise) and records its inputs in
.helios-scaffold.json. Running init again starts from the recorded inputs, so
only the flags you pass change.`,
		Example: `  helios-scaffold init aws --name render-worker --module example.com/render
  helios-scaffold init cloudrun --project my-project --region europe-west1`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("init needs a target: aws or cloudrun")}
			}
			return usageError{fmt.Errorf("unknown target %q: want aws or cloudrun", args[0])}
		},
	}
	cmd.AddCommand(newInitAWSCmd(), newInitCloudRunCmd())
	return cmd
}

// inputFlag binds one flag to one field of [generator.Inputs].
type inputFlag struct {
	name, usage string
	field       func(*generator.Inputs) any // *string or *int
}

// commonInputFlags are the input flags of both targets.
var commonInputFlags = []inputFlag{
	{"name", "function or service name; also the cmd/<name> directory", func(in *generator.Inputs) any { return &in.Name }},
	{"module", "module path for a new go.mod, when the repository has none", func(in *generator.Inputs) any { return &in.Module }},
	{"region", "region to deploy to", func(in *generator.Inputs) any { return &in.Region }},
	{"timeout", "seconds a chunk may take", func(in *generator.Inputs) any { return &in.TimeoutSeconds }},
	{"base-image", "base image of the runtime stage; pin a tag (never latest)", func(in *generator.Inputs) any { return &in.BaseImage }},
	{"job-bucket", "bucket of job specs and assets that the worker may read (least privilege); also its HELIOS_ALLOWED_JOB_PATHS, so that a job spec elsewhere is refused", func(in *generator.Inputs) any { return &in.JobBucket }},
	{"output-url", "folder that chunk outputs are uploaded to (s3://BUCKET/PREFIX or gs://BUCKET/PREFIX); the worker may write there only", func(in *generator.Inputs) any { return &in.OutputURL }},
	{"deps", "what the image brings for the chunk commands: none (the marked install step is yours) or helios (Node.js 20, Chromium, fonts, and the Helios CLI or your project's npm dependencies)", func(in *generator.Inputs) any { return &in.Deps }},
	{"browser-version", "--deps helios: the exact Debian version of chromium-headless-shell the image installs (default " + generator.DefaultBrowserVersion + "); give --debian-snapshot with it", func(in *generator.Inputs) any { return &in.BrowserVersion }},
	{"debian-snapshot", "--deps helios: the time of Debian's snapshot archive the image's packages come from (default " + generator.DefaultDebianSnapshot + "), or off for the base image's mirror", func(in *generator.Inputs) any { return &in.DebianSnapshot }},
	{"fonts", "--deps helios: the image's fonts, basic (DejaVu) or noto (Noto with CJK and colour emoji)", func(in *generator.Inputs) any { return &in.Fonts }},
	{"replace-runtime", "local checkout of " + generator.ModulePath + " to replace it with (relative to --dir)", func(in *generator.Inputs) any { return &in.ReplaceRuntime }},
}

// initOptions are the flags of init that are not inputs.
type initOptions struct {
	dir    string
	write  writeOptions
	flags  []inputFlag
	target generator.Target
	// prepare, when set, completes the inputs before they are checked:
	// what a target derives from files or its environment.
	prepare func(cmd *cobra.Command, in *generator.Inputs) error
}

// writeOptions are the flags shared by init and generate.
type writeOptions struct {
	force, dryRun, diff bool
}

func (w *writeOptions) register(fs *pflag.FlagSet) {
	fs.BoolVar(&w.force, "force", false, "overwrite edited tool files and conflicting files (never your own user-owned files)")
	fs.BoolVar(&w.dryRun, "dry-run", false, "print the plan and write nothing")
	fs.BoolVar(&w.diff, "diff", false, "print the plan with unified diffs and write nothing")
}

// register binds the flags to defaults, the values shown by --help.
func (o *initOptions) register(fs *pflag.FlagSet, defaults *generator.Inputs) {
	fs.StringVar(&o.dir, "dir", ".", "the repository to render into; made if missing")
	o.write.register(fs)
	for _, f := range o.flags {
		switch p := f.field(defaults).(type) {
		case *string:
			fs.StringVar(p, f.name, *p, f.usage)
		case *int:
			fs.IntVar(p, f.name, *p, f.usage)
		}
	}
}

// inputs returns the recorded inputs of the repository, or the target's
// defaults, with the flags that were set on the command line applied.
func (o *initOptions) inputs(fs *pflag.FlagSet, parsed generator.Inputs, prev *generator.Answers) generator.Inputs {
	in := generator.Defaults(o.target)
	switch {
	case prev != nil && prev.Inputs.Target == o.target:
		in = prev.Inputs
	case prev != nil: // switching target (--force): keep what both share
		in.Name, in.Module, in.ReplaceRuntime = prev.Inputs.Name, prev.Inputs.Module, prev.Inputs.ReplaceRuntime
	}
	// A new kind or deps first, so that the flags below override their
	// defaults.
	if fs.Changed("kind") {
		in.SetKind(parsed.Kind)
	}
	if fs.Changed("deps") {
		in.SetDeps(parsed.Deps)
	}
	for _, f := range o.flags {
		if !fs.Changed(f.name) || f.name == "kind" || f.name == "deps" {
			continue
		}
		switch dst := f.field(&in).(type) {
		case *string:
			*dst = *f.field(&parsed).(*string)
		case *int:
			*dst = *f.field(&parsed).(*int)
		}
	}
	return in
}

// newInitTargetCmd builds init's subcommand for target, with the common
// flags and the target's own.
func newInitTargetCmd(target generator.Target, flags []inputFlag) (*cobra.Command, *initOptions) {
	o := &initOptions{target: target, flags: append(append([]inputFlag{}, commonInputFlags...), flags...)}
	parsed := generator.Defaults(target)
	cmd := &cobra.Command{
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := generator.CheckDir(o.dir); err != nil {
				return err
			}
			prev, err := generator.ReadAnswers(o.dir)
			if err != nil {
				return err
			}
			in := o.inputs(cmd.Flags(), parsed, prev)
			if err := movePin(cmd.Flags(), &in, prev); err != nil {
				return err
			}
			if err := findLockfile(cmd, o.dir, &in); err != nil {
				return err
			}
			if o.prepare != nil {
				if err := o.prepare(cmd, &in); err != nil {
					return err
				}
			}
			return scaffold(cmd, o.dir, in, prev, o.write, initMode)
		},
	}
	o.register(cmd.Flags(), &parsed)
	return cmd, o
}

// movePin wants a browser version that moves to come with the snapshot
// that holds it (the old snapshot would not have it, and the build would
// fail); back to the default version, it takes the default snapshot.
func movePin(fs *pflag.FlagSet, in *generator.Inputs, prev *generator.Answers) error {
	if !fs.Changed("browser-version") || fs.Changed("debian-snapshot") {
		return nil
	}
	switch {
	case in.BrowserVersion == generator.DefaultBrowserVersion:
		in.DebianSnapshot = generator.DefaultDebianSnapshot
		return nil
	case prev != nil && prev.Inputs.BrowserVersion == in.BrowserVersion:
		return nil
	}
	return usageError{fmt.Errorf("--browser-version %s needs --debian-snapshot: a time at which Debian's archive held that version, such as %s, or off to build from the base image's mirror",
		in.BrowserVersion, generator.DefaultDebianSnapshot)}
}

// usageArgs marks errors of a positional-argument check as usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
