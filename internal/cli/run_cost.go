package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"google.golang.org/api/option"
	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// envRunAPI points the Cloud Run Admin API client at another endpoint
// (a local stand-in in tests).
const envRunAPI = "HELIOS_CLOUDRUN_API"

// resolveCost checks --budget and --prices, and makes the cost model from
// what the answers say of the worker; the pre-flight may refine it.
func (p *runPlan) resolveCost(a *generator.Answers) error {
	o := p.o
	if o.budget < 0 {
		return usageError{errors.New("--budget must not be negative")}
	}
	if o.budget > 0 && (p.target == targetLocal || p.target == targetCloudRunJob || o.collectOnly) {
		return usageError{errors.New("--budget is for --target aws or cloudrun: a local run costs nothing, --collect-only calls no worker, " +
			"and a Cloud Run job's execution starts its tasks without run")}
	}
	p.prices = cost.Default
	if o.prices != "" {
		prices, err := cost.LoadPrices(o.prices)
		if err != nil {
			return usageError{fmt.Errorf("--prices: %w", err)}
		}
		p.prices = prices
	}
	if p.target == targetCloudRun {
		p.service = o.service
		if p.service == "" && a != nil && a.Inputs.Target == targetCloudRun && a.Inputs.Project != "" {
			p.service = quota.ServiceName(a.Inputs.Project, a.Inputs.Region, a.Inputs.Name)
		}
	}
	if a != nil && (string(a.Inputs.Target) == p.target || p.target == targetCloudRunJob && a.Inputs.IsJob()) {
		p.worker = answeredWorker(a.Inputs)
	}
	return nil
}

// answeredWorker is the worker that the answers describe.
func answeredWorker(in generator.Inputs) cost.Worker {
	w := cost.Worker{Platform: cost.Platform(in.Target), MemoryMB: in.MemoryMB, Arch: in.Arch}
	if in.Target == targetCloudRun {
		w.Arch = ""
		w.CPU, _ = quota.ParseCPU(in.CPU) // 0, unknown, when it does not parse
	}
	return w
}

// model is the cost model, and false when the worker's size is not
// known.
func (p *runPlan) model() (cost.Model, bool) {
	if p.target == targetLocal || p.worker.Check() != nil {
		return cost.Model{}, false
	}
	return cost.Model{Worker: p.worker, Prices: p.prices}, true
}

// attemptCost is what the Runner prices an attempt with: nil when there
// is no model.
func (p *runPlan) attemptCost() func(time.Duration) float64 {
	m, ok := p.model()
	if !ok {
		return nil
	}
	return m.Attempt
}

// preflight reads the worker's limits and size before the fan-out:
// --concurrency is lowered to what can run at once, the backups of
// stragglers are kept within it, and the cost model takes the deployed
// size. What cannot be read is said, and the run goes on, unless a
// --budget then has no size to price calls with; a worker that can take
// nothing is an error.
func (p *runPlan) preflight(ctx context.Context, lambdaClient *lambda.Client, prog *progress) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lim quota.Limits
	var err error
	switch {
	case lambdaClient != nil:
		lim, err = quota.Lambda(ctx, lambdaClient, p.function)
	case p.target == targetCloudRun && p.service != "":
		lim, err = p.cloudRunLimits(ctx)
	default:
		return p.checkBudget()
	}
	switch {
	case errors.Is(err, quota.ErrThrottled):
		return err
	case err != nil:
		prog.line("could not read the worker's limits (%v): going on with --concurrency %d", err, p.conc)
		return p.checkBudget()
	}
	if lim.Worker.Check() == nil {
		p.worker = lim.Worker
	}
	p.capacity = lim.Concurrency
	if lim.Concurrency > 0 && lim.Concurrency < p.conc {
		prog.line("lowering --concurrency from %d to %d: %s", p.conc, lim.Concurrency, lim.Why)
		p.conc = lim.Concurrency
	}
	return p.checkBudget()
}

// checkBudget refuses a --budget that no model can keep: the worker's
// size is not known.
func (p *runPlan) checkBudget() error {
	if p.o.budget > 0 && p.worker.Check() != nil {
		return usageError{fmt.Errorf("--budget needs the worker's size to price its calls, and neither the answers nor the %s say it%s",
			p.target, map[bool]string{true: " (pass --service, or run inside the scaffolded repository)"}[p.target == targetCloudRun && p.service == ""])}
	}
	return nil
}

// cloudRunLimits reads the service's limits through the Admin API.
func (p *runPlan) cloudRunLimits(ctx context.Context) (quota.Limits, error) {
	svc, err := p.runAPI(ctx)
	if err != nil {
		return quota.Limits{}, err
	}
	return quota.CloudRun(ctx, svc, p.service)
}

// runAPI is the Cloud Run Admin API client: at $HELIOS_CLOUDRUN_API
// when set, without credentials with --no-auth.
func (p *runPlan) runAPI(ctx context.Context) (*runapi.Service, error) {
	var opts []option.ClientOption
	if e := os.Getenv(envRunAPI); e != "" {
		opts = append(opts, option.WithEndpoint(e))
	}
	if p.o.noAuth {
		opts = append(opts, option.WithoutAuthentication())
	}
	svc, err := runapi.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("making the Cloud Run Admin API client: %w", err)
	}
	return svc, nil
}

// usd is an amount for people: cents above a dollar, four decimals
// under it, and six under a cent.
func usd(v float64) string {
	switch {
	case v >= 1:
		return fmt.Sprintf("$%.2f", v)
	case v >= 0.01 || v == 0:
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.6f", v)
}
