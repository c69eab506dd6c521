package s3test_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// CreateFunction makes a function with the memory, architecture and
// reserved concurrency asked for, and a role that moto knows.
func TestCreateFunction(t *testing.T) {
	srv := s3test.Shared(t)
	client := lambda.NewFromConfig(srv.Config(s3test.AccessKeyID, s3test.SecretAccessKey), func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint)
	})
	ctx := testdeadline.Context(t)
	for _, f := range []s3test.Function{
		{Name: "s3test-arm", MemoryMB: 2048, Arch: types.ArchitectureArm64, Reserved: 5},
		{Name: "s3test-throttled", MemoryMB: 512, Arch: types.ArchitectureX8664, Reserved: 0},
		{Name: "s3test-unreserved", MemoryMB: 1024, Arch: types.ArchitectureArm64, Reserved: -1},
	} {
		if got := srv.CreateFunction(t, client, f); got != f.Name {
			t.Errorf("CreateFunction(%+v) = %q, want the name", f, got)
		}
		conf, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &f.Name})
		if err != nil {
			t.Fatal(err)
		}
		if mem := aws.ToInt32(conf.MemorySize); mem != f.MemoryMB || len(conf.Architectures) != 1 || conf.Architectures[0] != f.Arch {
			t.Errorf("%s: %d MB %v, want %d MB %s", f.Name, mem, conf.Architectures, f.MemoryMB, f.Arch)
		}
		if role := aws.ToString(conf.Role); !strings.HasSuffix(role, ":role/"+f.Name) {
			t.Errorf("%s: role %s, want one named %s", f.Name, role, f.Name)
		}
		conc, err := client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: &f.Name})
		if err != nil {
			t.Fatal(err)
		}
		if f.Reserved < 0 {
			if conc.ReservedConcurrentExecutions != nil {
				t.Errorf("%s: reserved %d, want no reservation", f.Name, *conc.ReservedConcurrentExecutions)
			}
		} else if got := conc.ReservedConcurrentExecutions; got == nil || *got != f.Reserved {
			t.Errorf("%s: reserved %v, want %d", f.Name, got, f.Reserved)
		}
	}
}
