package quota_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// The three reads of quota.Lambda, as the proxy tells them apart.
const (
	opAccount = "GetAccountSettings"
	opConc    = "GetFunctionConcurrency"
	opConfig  = "GetFunctionConfiguration"
)

// accountSettings is GetAccountSettings' answer as Lambda documents it,
// for an account with a concurrency of 1000 of which 10 are unreserved.
const accountSettings = `{
  "AccountLimit": {
    "TotalCodeSize": 80530636800,
    "CodeSizeUnzipped": 262144000,
    "CodeSizeZipped": 52428800,
    "ConcurrentExecutions": 1000,
    "UnreservedConcurrentExecutions": 10
  },
  "AccountUsage": {"TotalCodeSize": 1642, "FunctionCount": 3}
}`

// lambdaProxy is the tests' Lambda endpoint: a loopback reverse proxy in
// front of moto. moto 5.2.1 implements CreateFunction,
// GetFunctionConfiguration, PutFunctionConcurrency and
// GetFunctionConcurrency, but not GetAccountSettings (its
// awslambda/urls.py has no account-settings route), so the proxy answers
// GET /2016-08-19/account-settings itself with the documented JSON and
// forwards everything else to moto. It also answers 403
// AccessDeniedException, as Lambda does to a caller without the
// permission, for the operations in deny.
type lambdaProxy struct {
	moto *httputil.ReverseProxy
	deny map[string]bool
	// seen counts the account settings reads.
	seen atomic.Int32
	// concPath is the path of the last GetFunctionConcurrency.
	concPath atomic.Value
}

func (p *lambdaProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := ""
	switch path := strings.TrimSuffix(r.URL.Path, "/"); {
	case r.Method != http.MethodGet:
	case path == "/2016-08-19/account-settings":
		op = opAccount
	case strings.HasSuffix(path, "/concurrency"):
		op = opConc
	case strings.HasSuffix(path, "/configuration"):
		op = opConfig
	}
	switch op {
	case opAccount:
		p.seen.Add(1)
	case opConc:
		p.concPath.Store(r.URL.Path)
	}
	switch {
	case op != "" && p.deny[op]:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"Message": "User: arn:aws:iam::123456789012:user/render is not authorized to perform: lambda:%s because no identity-based policy allows the lambda:%s action"}`, op, op)
	case op == opAccount:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, accountSettings)
	default:
		p.moto.ServeHTTP(w, r)
	}
}

// newLambdaClient returns a Lambda client whose endpoint is a lambdaProxy
// in front of srv that denies the operations deny.
func newLambdaClient(t *testing.T, srv *s3test.Server, deny ...string) (*lambda.Client, *lambdaProxy) {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &lambdaProxy{moto: httputil.NewSingleHostReverseProxy(target), deny: map[string]bool{}}
	for _, op := range deny {
		p.deny[op] = true
	}
	proxy := httptest.NewServer(p)
	t.Cleanup(proxy.Close)
	return lambda.NewFromConfig(srv.Config(s3test.AccessKeyID, s3test.SecretAccessKey), func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
	}), p
}

var (
	functions   atomic.Int64 // the functions created, to give each a name of its own
	notNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

// createFunction creates a 2048 MB arm64 function in moto, named after
// the test, with the reserved concurrency reserved unless it is negative,
// and returns its name.
func createFunction(t *testing.T, srv *s3test.Server, client *lambda.Client, reserved int32) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", functions.Add(1), strings.Trim(notNameChar.ReplaceAllString(t.Name(), "-"), "-"))
	return srv.CreateFunction(t, client, s3test.Function{
		Name: name[:min(len(name), 64)], MemoryMB: 2048, Arch: types.ArchitectureArm64, Reserved: reserved,
	})
}

func TestLambda(t *testing.T) {
	arm2048 := cost.Worker{Platform: cost.AWS, MemoryMB: 2048, Arch: cost.ArchARM}
	tests := []struct {
		name     string
		reserved int32 // -1 for none
		deny     []string
		want     quota.Limits
		account  bool   // whether the account settings are read
		err      error  // a sentinel the error wraps; nil for none
		errMsg   string // what the error says
	}{
		{
			name: "no reservation: the account's unreserved concurrency", reserved: -1, account: true,
			want: quota.Limits{Concurrency: 10, Why: "the account's unreserved concurrency is 10 of 1000", Worker: arm2048},
		},
		{
			name: "reserved 50", reserved: 50,
			want: quota.Limits{Concurrency: 50, Why: "the function's reserved concurrency is 50", Worker: arm2048},
		},
		{
			name: "reserved 0 is throttled", reserved: 0,
			want:   quota.Limits{Why: "the function's reserved concurrency is 0, so Lambda throttles every invoke", Worker: arm2048},
			err:    quota.ErrThrottled,
			errMsg: "worker throttled: its reserved concurrency is 0 (aws lambda delete-function-concurrency --function-name",
		},
		{
			name: "account settings denied", reserved: -1, deny: []string{opAccount}, account: true,
			want: quota.Limits{Why: "concurrency unknown; lambda:GetAccountSettings was denied, so the account's concurrency is unknown", Worker: arm2048},
		},
		{
			name: "account settings denied, reserved 50", reserved: 50, deny: []string{opAccount},
			want: quota.Limits{Concurrency: 50, Why: "the function's reserved concurrency is 50", Worker: arm2048},
		},
		{
			name: "reservation denied: the account's whole concurrency", reserved: 50, deny: []string{opConc}, account: true,
			want: quota.Limits{Concurrency: 1000, Why: "the account's concurrency is 1000 (10 of it unreserved); lambda:GetFunctionConcurrency was denied, so whether the function reserves concurrency is unknown", Worker: arm2048},
		},
		{
			name: "configuration denied", reserved: 50, deny: []string{opConfig},
			want: quota.Limits{Concurrency: 50, Why: "the function's reserved concurrency is 50; lambda:GetFunctionConfiguration was denied, so the function's memory and architecture are unknown"},
		},
		{
			name: "everything denied", reserved: -1, deny: []string{opAccount, opConc, opConfig}, account: true,
			want: quota.Limits{Why: "concurrency unknown; lambda:GetFunctionConfiguration was denied, so the function's memory and architecture are unknown; " +
				"lambda:GetFunctionConcurrency was denied, so whether the function reserves concurrency is unknown; " +
				"lambda:GetAccountSettings was denied, so the account's concurrency is unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := s3test.Shared(t)
			client, proxy := newLambdaClient(t, srv, tt.deny...)
			function := createFunction(t, srv, client, tt.reserved)
			got, err := quota.Lambda(testdeadline.Context(t), client, function)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errMsg) || !strings.Contains(err.Error(), function) {
					t.Errorf("Lambda: %v; want an error wrapping %v with %q and the function's name", err, tt.err, tt.errMsg)
				}
			} else if err != nil {
				t.Fatalf("Lambda: %v", err)
			}
			if got != tt.want {
				t.Errorf("Lambda =\n%+v\nwant\n%+v", got, tt.want)
			}
			if read := proxy.seen.Load() > 0; read != tt.account {
				t.Errorf("account settings read: %v, want %v", read, tt.account)
			}
		})
	}
}

// A function that is not there is ErrNoService, by any of its names.
func TestLambdaNoFunction(t *testing.T) {
	srv := s3test.Shared(t)
	client, _ := newLambdaClient(t, srv)
	for _, name := range []string{"no-such-function", "no-such-function:prod", "arn:aws:lambda:us-east-1:123456789012:function:no-such-function"} {
		_, err := quota.Lambda(testdeadline.Context(t), client, name)
		if !errors.Is(err, quota.ErrNoService) || !strings.Contains(err.Error(), "reading the configuration of Lambda function "+name+": no such worker: ") {
			t.Errorf("Lambda(%s): %v; want an error wrapping ErrNoService", name, err)
		}
	}
}

// A function named by ARN, or with an alias, has its reservation read
// from the function itself.
func TestLambdaQualified(t *testing.T) {
	srv := s3test.Shared(t)
	client, proxy := newLambdaClient(t, srv)
	function := createFunction(t, srv, client, 50)
	_, err := client.CreateAlias(testdeadline.Context(t), &lambda.CreateAliasInput{
		FunctionName: aws.String(function), Name: aws.String("prod"), FunctionVersion: aws.String("$LATEST"),
	})
	if err != nil {
		t.Fatalf("creating alias prod of %s in moto: %v", function, err)
	}
	want := quota.Limits{Concurrency: 50, Why: "the function's reserved concurrency is 50", Worker: cost.Worker{Platform: cost.AWS, MemoryMB: 2048, Arch: cost.ArchARM}}
	arn := "arn:aws:lambda:us-east-1:123456789012:function:" + function
	for _, name := range []string{function + ":prod", arn, arn + ":prod"} {
		got, err := quota.Lambda(testdeadline.Context(t), client, name)
		if err != nil || got != want {
			t.Errorf("Lambda(%s) = %+v, %v; want %+v", name, got, err, want)
		}
		// Lambda refuses a qualifier there (moto does not).
		wantPath := "/functions/" + strings.TrimSuffix(name, ":prod") + "/concurrency"
		if path, _ := proxy.concPath.Load().(string); !strings.HasSuffix(path, wantPath) {
			t.Errorf("Lambda(%s) read the reserved concurrency at %q, want .../%s", name, path, wantPath)
		}
	}
}

// Other failures are errors: here, moto is gone.
func TestLambdaUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	client := lambda.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(t))
	defer cancel()
	_, err := quota.Lambda(ctx, client, "helios-worker")
	if err == nil || errors.Is(err, quota.ErrNoService) || !strings.HasPrefix(err.Error(), "reading the configuration of Lambda function helios-worker: ") {
		t.Errorf("Lambda: %v; want an error reading the configuration", err)
	}
}
