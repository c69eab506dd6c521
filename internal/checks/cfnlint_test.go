package checks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodSAM = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures:
        - arm64
      MemorySize: 1024
      Timeout: 900
Outputs:
  WorkerArn:
    Value: !GetAtt Worker.Arn
`

// skipWithoutCFNLint skips the test only when cfn-lint is truly absent.
func skipWithoutCFNLint(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrNoCFNLint) {
		t.Skip(err)
	}
}

func TestCFNLint(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // a finding expected in the error; "" for none
	}{
		{name: "good SAM template", data: goodSAM},
		{
			name: "error: timeout above Lambda's 900 s",
			data: strings.Replace(goodSAM, "Timeout: 900", "Timeout: 901", 1),
			want: ":E3034:",
		},
		{
			name: "error: go1.x runtime",
			data: strings.Replace(goodSAM, "provided.al2023", "go1.x", 1),
			want: ":E2533:",
		},
		{
			name: "error: not yaml",
			data: "Resources: [\n",
			want: ":E0000:",
		},
		{
			name: "warning: hardcoded availability zone",
			data: strings.Replace(goodSAM, "Outputs:", `  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: vpc-12345678
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: us-east-1a
Outputs:`, 1),
			want: ":W3010:",
		},
		{
			name: "warning: DeletionPolicy without UpdateReplacePolicy",
			data: strings.Replace(goodSAM, "Outputs:", `  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
Outputs:`, 1),
			want: ":W3011:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(file, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			err := CFNLint(ctx, file)
			skipWithoutCFNLint(t, err)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CFNLint(): %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCFNLint) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CFNLint() = %v; want ErrCFNLint with a %s finding", err, tt.want)
			}
		})
	}
}

func TestCFNLintMissingFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := CFNLint(ctx, filepath.Join(t.TempDir(), "absent.yaml"))
	skipWithoutCFNLint(t, err)
	if !errors.Is(err, ErrCFNLint) {
		t.Fatalf("CFNLint(absent) = %v, want ErrCFNLint", err)
	}
}

func TestCFNLintNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, "")
	err := CFNLint(t.Context(), "template.yaml")
	if !errors.Is(err, ErrNoCFNLint) {
		t.Fatalf("CFNLint() without cfn-lint on PATH = %v, want ErrNoCFNLint", err)
	}
	t.Setenv(RequireEnv, "1")
	err = CFNLint(t.Context(), "template.yaml")
	if err == nil || errors.Is(err, ErrNoCFNLint) || !strings.Contains(err.Error(), RequireEnv) {
		t.Fatalf("CFNLint() without cfn-lint, required = %v, want an error naming %s", err, RequireEnv)
	}
}

func TestCFNLintTimeout(t *testing.T) {
	file := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(file, []byte(goodSAM), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	err := CFNLint(ctx, file)
	skipWithoutCFNLint(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CFNLint() with an expired context = %v, want context.DeadlineExceeded", err)
	}
}
