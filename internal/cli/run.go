package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// runOptions are the flags of run.
type runOptions struct {
	target    string
	function  string
	region    string
	url       string
	noAuth    bool
	upload    string
	assets    string
	exclude   []string
	outputURL string

	concurrency  int
	retries      int
	retryFailed  bool
	progress     string
	state        string
	out          string
	downloads    int
	noMerge      bool
	collectOnly  bool
	dryRun       bool
	root         string
	wait         bool
	chunkTimeout time.Duration
	logs         string

	noHedge       bool
	hedge         fanout.Hedge
	noVerify      bool
	budget        float64
	prices        string
	service       string
	webhook       string
	webhookSecret string
	report        string

	// job and tasks are the cloudrun-job target's; detach and attach
	// leave a render that goes on without run, and follow one.
	job     string
	tasks   int
	detach  bool
	attach  string
	redrive bool
}

// Default concurrency per target.
const (
	defaultAWSConcurrency      = 100
	defaultCloudRunConcurrency = 10
	maxLocalConcurrency        = 4
)

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Render a whole job: every chunk on the workers (or here), then the merge",
		Long: `run takes a job spec (what helios render --emit-job writes) to a finished
video: it calls a worker once per chunk, --concurrency at a time, tries again
what the platform throttled or dropped, records each finished chunk in a state
file so that running the same command again skips it, collects the outputs
into --out and runs the spec's mergeCommand there.

JOB is a local path, or an s3://, gs:// or http(s):// location the workers
can read.

Targets:
  local     the worker core in this process (the default outside a scaffolded
            project): workspaces under --workspace-root, the outputs written
            into --out. For trying a spec before deploying, or one big machine.
  aws       a deployed Lambda function, invoked synchronously: --function
            (default: the name in .helios-scaffold.json) and --region (default:
            the answers' region, else the AWS configuration), with the default
            AWS credential chain.
  cloudrun  a deployed Cloud Run service: --url, which exists only after
            deploying, with an ID token from Application Default Credentials
            (--no-auth for a local server).
  cloudrun-job
            a deployed Cloud Run job (init cloudrun --kind job; --job, default:
            the answers' job): run uploads as for cloudrun, starts an execution
            of --tasks tasks through the Cloud Run Admin API (jobs.run), follows
            its tasks, then collects and merges. --detach starts it and exits;
            --attach ID follows it again, at any time, and collects. A rerun
            starts an execution of the chunks not done only.
With --target aws, --detach starts an execution of the Step Functions state
machine that init aws --orchestrator stepfunctions adds (it renders every
chunk and merges in the cloud); --attach ARN follows it, then downloads the
merged video and checks it; with --redrive, a failed execution is redriven
first: only its failed chunks render again.
Inside a scaffolded repository the target defaults to the one in
.helios-scaffold.json (cloudrun-job for a --kind job project), and --upload
to its jobBucket.

A local JOB run on a remote target needs --upload: run uploads the project
folder (the spec's assetsUrl when it is a local folder, else --assets, else
the spec's folder) and the spec, leaving out node_modules/, .git/, what
.gitignore ignores, the spec's own outputs and --exclude; objects already
there with the same size and checksum are not sent again.

--concurrency defaults: local 4 (at most the number of CPUs: chunks render
on this machine), aws 100 (well under Lambda's default 1,000 concurrent
executions per region), cloudrun 10 (the default maximum instances of a
service scaffolded with concurrency 1 is 100; 10 leaves room for others).

Nothing unproven is merged: each chunk's output size and SHA-256, as its
worker answered, are recorded in the state file; a rerun checks them before
it skips the chunk, collect checks every download against them, and the
files in --out are checked once more right before the merge. An output that
does not match is rendered again. The state is bound to the spec and to the
project files it renders from: after an edit, a rerun renders every chunk
again and says which file changed. One run holds a state file at a time: a
second exits naming the first (--wait queues behind it). Nothing run starts
outlives it: what a killed run left is killed by the next run on that state.

Stragglers are hedged: once 5 chunks have finished, a chunk running longer
than 3 times the p90 of their times (and at least 30 s) is issued again on
another worker; the first to succeed wins and the other is cancelled
(--no-hedge, --hedge-factor, --hedge-floor, --hedge-after). Every output is
checked as video before the merge where ffprobe is on PATH (its frame count
and duration are the chunk's, and it decodes; a bad one is rendered again),
and the merged video after it (--no-verify turns both off).

On aws and cloudrun, run reads the function's or service's concurrency limit
first and lowers --concurrency to it, and prices every call from the worker's
memory (and CPU) at list prices: the bar, the JSON events and the summary
show what was spent and an estimate for the rest; --budget USD stops starting
chunks when the estimate for the whole job would pass it. --webhook sends one
signed JSON POST when the render ends; --report writes a static HTML page
of the render (a timeline of every attempt, percentiles, bytes, cost).

A local run puts node_modules/.bin of the spec's folder (and of the folders
above it) on PATH, as npm run does, so that helios is found.

Exit codes: 0 done and merged, 1 a chunk, the collect, a video check or the
merge failed, or --budget stopped the run (the state is kept: run again to
retry only the failed chunks), 2 bad input
(nothing was called: the flags, the spec, or a --state that is not this
job's or that another run holds), 130 or 143 interrupted by SIGINT or
SIGTERM (the first stops starting chunks and waits for those running; a
second stops them). On cloudrun-job, a signal while run follows the execution
stops run alone: the execution goes on, and the same command (or --attach)
follows it again.`,
		Example: `  # Try a spec here before deploying; outputs and the merged video land beside it
  helios render composition.html --emit-job job.json
  helios-scaffold run job.json

  # On the deployed Lambda function, uploading the project to the job bucket
  helios-scaffold run job.json --target aws --function render-worker --upload s3://my-jobs/runs

  # On a Cloud Run service, with progress as JSON lines
  helios-scaffold run job.json --target cloudrun --url https://render-worker-abc-ew.a.run.app \
    --upload gs://my-jobs/runs --progress json

  # Stop before spending more than $5, tell a receiver how it ended, and keep a report
  helios-scaffold run job.json --budget 5 --webhook https://hooks.example.com/helios \
    --webhook-secret "$HOOK_SECRET" --report render.html

  # On a Cloud Run job: start an execution of 20 tasks, leave it, come back later
  helios-scaffold run job.json --target cloudrun-job --job projects/my-project/locations/us-central1/jobs/render-job \
    --upload gs://my-jobs/runs --tasks 20 --detach
  helios-scaffold run job.json --target cloudrun-job --job projects/my-project/locations/us-central1/jobs/render-job \
    --upload gs://my-jobs/runs --attach render-job-x7k2p

  # On the state machine of init aws --orchestrator stepfunctions: start, follow, redrive if it failed
  helios-scaffold run job.json --target aws --detach
  helios-scaffold run job.json --target aws --attach arn:aws:states:us-east-1:123456789012:execution:render-worker-render:job-1796673000 --redrive

  # After a Cloud Run job's tasks ran: fetch the outputs and merge
  helios-scaffold run gs://my-jobs/runs/job.json --collect-only`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJob(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "", "where chunks run: local, aws, cloudrun or cloudrun-job (default: .helios-scaffold.json's target, else local)")
	f.StringVar(&o.function, "function", "", "aws: the function's name or ARN (default: the answers' name)")
	f.StringVar(&o.region, "region", "", "aws: the function's region (default: the answers' region, else AWS_REGION and the AWS config)")
	f.StringVar(&o.url, "url", "", "cloudrun: the service's URL")
	f.BoolVar(&o.noAuth, "no-auth", false, "cloudrun: send no ID token (a local server); cloudrun, cloudrun-job: call the Admin API without credentials")
	f.StringVar(&o.job, "job", "", "cloudrun-job: the job, projects/P/locations/R/jobs/J (default: the answers' job)")
	f.IntVar(&o.tasks, "tasks", 0, "cloudrun-job: the execution's tasks (default: the answers' tasks, else one per chunk; at most the chunks to render)")
	f.BoolVar(&o.detach, "detach", false, "start the render, print how to follow it and exit, leaving it to go on without run (cloudrun-job; aws with a state machine)")
	f.StringVar(&o.attach, "attach", "", "follow a render started before, then collect and merge (cloudrun-job: the execution's name, or its id with --job; aws: the execution's ARN)")
	f.BoolVar(&o.redrive, "redrive", false, "aws --attach: redrive the execution if it failed (Step Functions runs its failed chunks and the steps after them again, for 14 days after it ended), then follow it")
	f.StringVar(&o.upload, "upload", "", "s3://BUCKET/PREFIX or gs://BUCKET/PREFIX to upload a local spec and its folder to (default: the answers' jobBucket, prefix helios-run)")
	f.StringVar(&o.assets, "assets", "", "the project folder to upload (default: the spec's local assetsUrl, else its folder)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "leave out of the upload what this gitignore pattern matches (repeatable)")
	f.StringVar(&o.outputURL, "output-url", "", "where the workers put outputs, when the spec has no outputUrl (default: PREFIX/outputs/RUN of --upload)")
	f.IntVar(&o.concurrency, "concurrency", 0, fmt.Sprintf("chunks in flight (default: local %d, at most the CPUs; aws %d; cloudrun %d)",
		maxLocalConcurrency, defaultAWSConcurrency, defaultCloudRunConcurrency))
	f.IntVar(&o.retries, "retries", 3, "tries after the first for a chunk throttled, dropped or killed by the platform")
	f.BoolVar(&o.retryFailed, "retry-failed", false, "also try again chunks whose command failed")
	f.StringVar(&o.progress, "progress", "auto", "auto (a bar on a terminal, else json), bar, json (a line per chunk event on stdout) or none")
	f.StringVar(&o.state, "state", "", "the state file (default: .JOB.helios-run in --out)")
	f.StringVar(&o.out, "out", "", "where outputs are collected and merged (default: the spec's folder for a local spec, else ./helios-out)")
	f.IntVar(&o.downloads, "download-concurrency", 8, "outputs downloaded at once")
	f.BoolVar(&o.noMerge, "no-merge", false, "stop after collecting the outputs")
	f.BoolVar(&o.collectOnly, "collect-only", false, "call no worker: collect the outputs that are there under outputUrl (a Cloud Run job's tasks), name the missing chunks, merge when none is")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and do nothing")
	f.BoolVar(&o.wait, "wait", false, "when another run holds the state file, wait for it to end instead of exiting")
	f.DurationVar(&o.chunkTimeout, "chunk-timeout", 0, "give up a chunk's call after this long and try it again (default: the platform's limit and a minute: aws 16m, cloudrun 61m; local: none but HELIOS_CHUNK_TIMEOUT)")
	f.StringVar(&o.logs, "logs", "", "the folder that receives each chunk's captured stdout and stderr (default: STATE.logs beside the state file)")
	f.BoolVar(&o.noHedge, "no-hedge", false, "never issue a straggling chunk again beside itself")
	f.Float64Var(&o.hedge.Factor, "hedge-factor", fanout.DefaultHedge.Factor, "hedge a chunk running longer than this many times the p90 of finished chunks")
	f.DurationVar(&o.hedge.Floor, "hedge-floor", fanout.DefaultHedge.Floor, "never hedge a chunk running for less than this")
	f.IntVar(&o.hedge.After, "hedge-after", fanout.DefaultHedge.After, "hedge only once this many chunks have finished")
	f.BoolVar(&o.noVerify, "no-verify", false, "do not check the outputs and the merged video as video with ffprobe (sizes and SHA-256 are still proven)")
	f.Float64Var(&o.budget, "budget", 0, "aws, cloudrun: stop starting chunks when the estimated cost of the whole job, in USD, would pass this")
	f.StringVar(&o.prices, "prices", "", "a JSON file of prices that replace the built-in ones (see docs/run.md)")
	f.StringVar(&o.service, "service", "", "cloudrun: the service, projects/P/locations/R/services/S, whose limits and size run reads (default: from .helios-scaffold.json)")
	f.StringVar(&o.webhook, "webhook", "", "POST a signed JSON summary to this http(s) URL when the render ends")
	f.StringVar(&o.webhookSecret, "webhook-secret", "", "the webhook's HMAC-SHA256 key (default: $"+envWebhookSecret+", which keeps it out of the process list)")
	f.StringVar(&o.report, "report", "", "write a static HTML report of the render to this file, at the end and on interrupt")
	f.StringVar(&o.root, "workspace-root", "", "local: where chunk workspaces, the staged project and the asset cache go (default: $TMPDIR/helios-scaffold-run)")
	return cmd
}
