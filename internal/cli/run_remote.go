package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// schemeOf is the bucket scheme that each remote target's workers read.
var schemeOf = map[string]string{targetAWS: "s3", targetCloudRun: "gs", targetCloudRunJob: "gs"}

// stores are the project's bucket stores, made on first use.
type stores struct {
	once sync.Once
	s3   *s3store.Store
	gs   *gcsstore.Store
}

func (s *stores) init() {
	s.once.Do(func() { s.s3, s.gs = s3store.New(), gcsstore.New() })
}

// sources are the Sources that read a JOB given as a location.
func (s *stores) sources() map[string]store.Source {
	s.init()
	return map[string]store.Source{"s3": s.s3, "gs": s.gs, "http": store.HTTPSource{}, "https": store.HTTPSource{}}
}

// bucket is the Bucket for location's scheme.
func (s *stores) bucket(location string) (fanout.Bucket, error) {
	s.init()
	switch loc := store.ParseLocation(location); {
	case loc.Scheme == "s3":
		return s.s3, nil
	case loc.Scheme == "gs":
		return s.gs, nil
	case loc.Local():
		return fanout.Dir{}, nil
	}
	return nil, fmt.Errorf("%s: outputs are collected from s3://, gs:// or file:// locations and local folders", location)
}

// resolveRemote checks what a remote target needs, and where a local
// spec and its folder are uploaded.
func (p *runPlan) resolveRemote(a *generator.Answers) error {
	o := p.o
	p.answers = a
	if p.target == targetLocal || o.collectOnly {
		if o.upload != "" || o.function != "" || o.url != "" {
			return usageError{errors.New("--upload, --function and --url are for --target aws or cloudrun")}
		}
		return nil
	}
	if err := p.resolveAddress(a); err != nil {
		return err
	}
	scheme := schemeOf[p.target]
	if assets := p.job.Spec.AssetsURL; p.specDir == "" && assets != "" && isLocal(assets) {
		return usageError{fmt.Errorf("the spec's assetsUrl %s is on this machine, which the workers cannot read: upload it and the spec, and run that", assets)}
	}
	if p.specDir == "" {
		if o.upload != "" {
			return usageError{errors.New("--upload is for a JOB on this machine; this one is in a bucket already")}
		}
		return nil
	}
	upload, from := o.upload, "--upload"
	if upload == "" && a != nil && a.Inputs.JobBucket != "" {
		upload, from = scheme+"://"+a.Inputs.JobBucket+"/helios-run", ".helios-scaffold.json's jobBucket"
	}
	if upload == "" {
		return usageError{fmt.Errorf("the %s workers cannot read %s, nor the project folder beside it, on this machine: "+
			"pass --upload %s://BUCKET/PREFIX, a place they can read, and run uploads both there", p.target, p.job.Location, scheme)}
	}
	switch loc := store.ParseLocation(upload); {
	case loc.Scheme != scheme:
		return usageError{fmt.Errorf("--upload %s: %s workers read %s:// locations", upload, p.target, scheme)}
	case loc.Bucket == "":
		return usageError{fmt.Errorf("--upload %s: no bucket in %s", upload, upload)}
	}
	p.upload, p.from["upload"] = strings.TrimRight(upload, "/"), from
	p.runID = p.job.Name() + "-" + strings.TrimPrefix(p.job.Hash, "sha256:")[:8]
	return nil
}

// resolveAddress finds the function (aws) or the URL (cloudrun).
func (p *runPlan) resolveAddress(a *generator.Answers) error {
	o := p.o
	switch p.target {
	case targetAWS:
		p.function, p.region = o.function, o.region
		p.from["function"], p.from["region"] = "--function", "--region"
		if a != nil && a.Inputs.Target == targetAWS {
			if p.function == "" {
				p.function, p.from["function"] = a.Inputs.Name, ".helios-scaffold.json"
			}
			if p.region == "" {
				p.region, p.from["region"] = a.Inputs.Region, ".helios-scaffold.json"
			}
		}
		if p.function == "" {
			return usageError{errors.New("--target aws needs --function NAME|ARN (or run inside the scaffolded project, whose answers name it)")}
		}
		if p.region == "" {
			p.from["region"] = "the AWS configuration"
		}
	case targetCloudRunJob:
		return p.resolveJobName(a)
	case targetCloudRun:
		if o.url == "" {
			return usageError{errors.New("--target cloudrun needs --url, the service's URL: gcloud run services describe NAME --format 'value(status.url)'")}
		}
		if !strings.HasPrefix(o.url, "https://") && !strings.HasPrefix(o.url, "http://") {
			return usageError{fmt.Errorf("--url %s: want an http(s):// URL", o.url)}
		}
	}
	return nil
}

// uploadedOutputURL is the outputUrl that the uploaded spec gets: none
// when it has its own, else --output-url, else a folder of this run below
// the project's outputUrl (where the workers may write), else below
// --upload.
func (p *runPlan) uploadedOutputURL() string {
	a := p.answers
	switch {
	case p.job.Spec.OutputURL != "":
		return ""
	case p.o.outputURL != "":
		return p.o.outputURL
	case a != nil && a.Inputs.OutputURL != "" && store.ParseLocation(a.Inputs.OutputURL).Scheme == schemeOf[p.target]:
		return strings.TrimRight(a.Inputs.OutputURL, "/") + "/" + p.runID
	}
	return p.upload + "/outputs/" + p.runID
}

// remoteTarget is the Caller of the deployed worker, and, on aws, the
// Lambda client it calls with.
func (p *runPlan) remoteTarget(ctx context.Context) (fanout.Target, *lambda.Client, error) {
	if p.target == targetCloudRun {
		var opts []runcaller.Option
		if p.o.noAuth {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = p.conc // one kept-alive connection per chunk in flight
			opts = append(opts, runcaller.WithHTTPClient(&http.Client{Transport: tr}))
		}
		c, err := runcaller.New(ctx, p.o.url, opts...)
		return c, nil, err
	}
	var opts []func(*config.LoadOptions) error
	if p.region != "" {
		opts = append(opts, config.WithRegion(p.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	// The function may run for minutes: no client-side timeout but the
	// run's own, and no SDK retries, which run does itself.
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	return lambdacaller.New(client, p.function), client, nil
}
