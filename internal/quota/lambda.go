package quota

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// LambdaAPI is what Lambda reads of the Lambda API; *lambda.Client has it.
type LambdaAPI interface {
	GetAccountSettings(ctx context.Context, params *lambda.GetAccountSettingsInput, optFns ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
	GetFunctionConcurrency(ctx context.Context, params *lambda.GetFunctionConcurrencyInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	GetFunctionConfiguration(ctx context.Context, params *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

var _ LambdaAPI = (*lambda.Client)(nil)

// Lambda reads the limits of the Lambda function (a name, an ARN, or
// either with a version or alias) in the client's region.
//
// The function's reserved concurrency, when it has one, is the limit;
// otherwise the account's unreserved concurrency in the region is, which
// every function without a reservation shares. A reserved concurrency of
// 0 throttles every invoke: the Limits read so far then come with an
// error wrapping [ErrThrottled]. A missing function is an error wrapping
// [ErrNoService].
//
// A read that is denied (AccessDeniedException) is no error: the Limits
// say less, and Why names the permission. When only the reservation is
// unknown, the limit is the account's whole concurrency, which no
// function can exceed.
func Lambda(ctx context.Context, api LambdaAPI, function string) (Limits, error) {
	var l Limits
	var notes []string

	cfg, err := api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	switch {
	case err == nil:
		if cfg.MemorySize != nil {
			l.Worker = cost.Worker{Platform: cost.AWS, MemoryMB: int(*cfg.MemorySize), Arch: lambdaArch(cfg.Architectures)}
		}
	case isAccessDenied(err):
		notes = append(notes, "lambda:GetFunctionConfiguration was denied, so the function's memory and architecture are unknown")
	case isNotFound(err):
		return Limits{}, fmt.Errorf("reading the configuration of Lambda function %s: %w: %w", function, ErrNoService, err)
	default:
		return Limits{}, fmt.Errorf("reading the configuration of Lambda function %s: %w", function, err)
	}

	// Reserved concurrency belongs to the function, not to a version or
	// alias, and GetFunctionConcurrency takes no qualifier.
	conc, err := api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(unqualified(function))})
	reservationKnown := true
	switch {
	case err == nil:
		if r := conc.ReservedConcurrentExecutions; r != nil {
			l.Concurrency = int(*r)
			if *r == 0 {
				l.Why = why("the function's reserved concurrency is 0, so Lambda throttles every invoke", why(notes...))
				return l, fmt.Errorf("reading the limits of Lambda function %s: %w: its reserved concurrency is 0 (aws lambda delete-function-concurrency --function-name %s lifts it)", function, ErrThrottled, unqualified(function))
			}
			l.Why = why(fmt.Sprintf("the function's reserved concurrency is %d", *r), why(notes...))
			return l, nil
		}
	case isAccessDenied(err):
		reservationKnown = false
		notes = append(notes, "lambda:GetFunctionConcurrency was denied, so whether the function reserves concurrency is unknown")
	case isNotFound(err):
		return l, fmt.Errorf("reading the reserved concurrency of Lambda function %s: %w: %w", function, ErrNoService, err)
	default:
		return l, fmt.Errorf("reading the reserved concurrency of Lambda function %s: %w", function, err)
	}

	acct, err := api.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	switch {
	case err == nil:
		var total, unreserved int
		if a := acct.AccountLimit; a != nil {
			total = int(a.ConcurrentExecutions)
			unreserved = int(aws.ToInt32(a.UnreservedConcurrentExecutions))
			if a.UnreservedConcurrentExecutions == nil {
				unreserved = total
			}
		}
		switch {
		case total == 0 && unreserved == 0:
			notes = append(notes, "the account's concurrency was not reported")
		case reservationKnown:
			l.Concurrency = unreserved
			notes = append([]string{fmt.Sprintf("the account's unreserved concurrency is %d of %d", unreserved, total)}, notes...)
		default:
			l.Concurrency = total
			notes = append([]string{fmt.Sprintf("the account's concurrency is %d (%d of it unreserved)", total, unreserved)}, notes...)
		}
	case isAccessDenied(err):
		notes = append(notes, "lambda:GetAccountSettings was denied, so the account's concurrency is unknown")
	default:
		return l, fmt.Errorf("reading the Lambda account settings: %w", err)
	}
	if l.Concurrency == 0 {
		notes = append([]string{"concurrency unknown"}, notes...)
	}
	l.Why = why(notes...)
	return l, nil
}

// lambdaArch is the architecture of a function (Lambda's default when it
// says none).
func lambdaArch(archs []types.Architecture) string {
	if len(archs) == 0 {
		return cost.ArchX86
	}
	return string(archs[0])
}

// unqualified drops a version or alias from a function name or ARN:
// "f:prod", "123456789012:function:f:prod" and
// "arn:aws:lambda:us-east-1:123456789012:function:f:prod" name f.
func unqualified(function string) string {
	parts := strings.Split(function, ":")
	switch {
	case strings.HasPrefix(function, "arn:") && len(parts) == 8,
		!strings.HasPrefix(function, "arn:") && (len(parts) == 4 || len(parts) == 2):
		return strings.Join(parts[:len(parts)-1], ":")
	}
	return function
}

// isAccessDenied reports whether err is AWS refusing the caller the
// action; an unknown or badly signed key is not that.
func isAccessDenied(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "AccessDeniedException", "AccessDenied":
		return true
	}
	return false
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
