package s3test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// Function is a Lambda function to create in moto with
// [Server.CreateFunction].
type Function struct {
	// Name names the function and its role.
	Name string
	// MemoryMB is the function's memory; 0 leaves moto's default.
	MemoryMB int32
	// Arch is the function's architecture; "" leaves moto's default.
	Arch types.Architecture
	// Reserved is the function's reserved concurrency; a negative one
	// reserves none. (0 is a reservation: Lambda throttles every invoke.)
	Reserved int32
}

// lambdaTrust lets Lambda assume a role.
const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// CreateFunction creates f in moto through client, a Lambda client for
// the server (or for a proxy in front of it), as a deployment would: a
// provided.al2023 function whose code is a zip holding a bootstrap
// script, which moto keeps and never runs, with a role of f's name that
// Lambda may assume (moto checks that the role exists), and f's reserved
// concurrency. It returns f.Name.
func (s *Server) CreateFunction(tb testing.TB, client *lambda.Client, f Function) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(f.Name),
		Role:         aws.String(s.createLambdaRole(tb, f.Name)),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{ZipFile: bootstrapZip(tb)},
	}
	if f.MemoryMB != 0 {
		in.MemorySize = aws.Int32(f.MemoryMB)
	}
	if f.Arch != "" {
		in.Architectures = []types.Architecture{f.Arch}
	}
	if _, err := client.CreateFunction(ctx, in); err != nil {
		tb.Fatalf("creating function %s in moto: %v", f.Name, err)
	}
	if f.Reserved >= 0 {
		_, err := client.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
			FunctionName:                 aws.String(f.Name),
			ReservedConcurrentExecutions: aws.Int32(f.Reserved),
		})
		if err != nil {
			tb.Fatalf("reserving concurrency of %s in moto: %v", f.Name, err)
		}
	}
	return f.Name
}

// createLambdaRole creates the named IAM role, which Lambda may assume,
// and returns its ARN.
func (s *Server) createLambdaRole(tb testing.TB, name string) string {
	tb.Helper()
	var out struct {
		Arn string `xml:"CreateRoleResult>Role>Arn"`
	}
	s.iam(tb, url.Values{
		"Action":                   {"CreateRole"},
		"RoleName":                 {name},
		"AssumeRolePolicyDocument": {lambdaTrust},
	}, &out)
	if out.Arn == "" {
		tb.Fatalf("moto IAM CreateRole for %s returned no role ARN", name)
	}
	return out.Arn
}

// bootstrapZip is a function's code: a zip holding a bootstrap script.
func bootstrapZip(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err == nil {
		_, err = io.WriteString(f, "#!/bin/sh\nexit 0\n")
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
