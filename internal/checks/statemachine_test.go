package checks

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// samStateMachine is a SAM template with a Distributed Map in the shape
// helios-scaffold renders, small.
const samStateMachine = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionSubstitutions:
        Partition: !Ref AWS::Partition
        Fn: !GetAtt Fn.Arn
      Definition:
        StartAt: Each
        States:
          Each:
            Type: Map
            Label: Items
            MaxConcurrency: 10
            ItemReader:
              Resource: "arn:${Partition}:states:::s3:getObject"
              ReaderConfig:
                InputType: JSON
              Parameters:
                Bucket.$: "$.list.bucket"
                Key.$: "$.list.key"
            ItemSelector:
              item.$: "$$.Map.Item.Value"
            ItemProcessor:
              ProcessorConfig:
                Mode: DISTRIBUTED
                ExecutionType: STANDARD
              StartAt: Call
              States:
                Call:
                  Type: Task
                  Resource: "arn:${Partition}:states:::lambda:invoke"
                  Parameters:
                    FunctionName: "${Fn}"
                    Payload:
                      item.$: "$.item"
                  ResultSelector:
                    statusCode.$: "$.Payload.statusCode"
                    body.$: "States.StringToJson($.Payload.body)"
                  Retry:
                    - ErrorEquals: [Lambda.TooManyRequestsException, States.Timeout]
                      IntervalSeconds: 2
                      BackoffRate: 2
                      MaxAttempts: 3
                      MaxDelaySeconds: 30
                      JitterStrategy: FULL
                  Next: Ok
                Ok:
                  Type: Choice
                  Choices:
                    - And:
                        - Variable: "$.statusCode"
                          NumericEquals: 200
                        - Variable: "$.body.outputUrl"
                          IsPresent: true
                      Next: Done
                  Default: Failed
                Done:
                  Type: Succeed
                Failed:
                  Type: Fail
                  Error: Helios.ChunkFailed
                  CausePath: "States.Format('status {}', $.statusCode)"
            ResultWriter:
              Resource: "arn:${Partition}:states:::s3:putObject"
              Parameters:
                Bucket: my-bucket
                Prefix: results
            ResultPath: "$.map"
            End: true
`

var testSubs = map[string]string{"Partition": "aws", "Fn": "arn:aws:lambda:us-east-1:123456789012:function:fn"}

func TestStateMachineDefinition(t *testing.T) {
	def, err := StateMachineDefinition([]byte(samStateMachine), "Machine", testSubs)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		States map[string]struct {
			ItemReader struct {
				Resource string
			}
			ItemProcessor struct {
				States map[string]struct {
					Parameters struct {
						FunctionName string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(def, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, def)
	}
	each := m.States["Each"]
	if each.ItemReader.Resource != "arn:aws:states:::s3:getObject" || each.ItemProcessor.States["Call"].Parameters.FunctionName != testSubs["Fn"] {
		t.Errorf("substitutions not made:\n%s", def)
	}
	if err := ValidateStateMachine(def); err != nil {
		t.Errorf("ValidateStateMachine: %v", err)
	}

	for _, tc := range []struct {
		name     string
		template string
		resource string
		subs     map[string]string
		want     string
	}{
		{"no such resource", samStateMachine, "Other", testSubs, "no resource Other"},
		{"not a state machine", samStateMachine, "Fn", testSubs, "not an AWS::Serverless::StateMachine"},
		{"a substitution without a value", samStateMachine, "Machine", map[string]string{"Partition": "aws"}, "declares the substitutions"},
		{"a value for no substitution", samStateMachine, "Machine", map[string]string{"Partition": "aws", "Fn": "x", "More": "y"}, "declares the substitutions"},
		{"an undeclared substitution", strings.Replace(samStateMachine, `"${Fn}"`, `"${Function}"`, 1), "Machine", testSubs, `uses ["${Function}"]`},
		{"no definition", strings.Replace(samStateMachine, "      Definition:\n", "      DefinitionX:\n", 1), "Machine", testSubs, "no inline Definition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StateMachineDefinition([]byte(tc.template), tc.resource, tc.subs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("StateMachineDefinition() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestValidateStateMachineRejects breaks the definition in ways that Step
// Functions would refuse, or that would not do what they seem to: the
// schema, or the check of names and reachability, must say so.
func TestValidateStateMachineRejects(t *testing.T) {
	good, err := StateMachineDefinition([]byte(samStateMachine), "Machine", testSubs)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		old, new_ string
		want      string // in the error
	}{
		{"unknown field", `"ResultPath": "$.map"`, `"ResultPaths": "$.map"`, "ResultPaths"},
		{"unknown state type", `"Type": "Succeed"`, `"Type": "Success"`, "Done/Type"},
		{"mode", `"Mode": "DISTRIBUTED"`, `"Mode": "DISTRIBUTE"`, "Mode"},
		{"distributed without an execution type", `"ExecutionType": "STANDARD",`, ``, "ExecutionType"},
		{"jitter", `"JitterStrategy": "FULL"`, `"JitterStrategy": "FUL"`, "JitterStrategy"},
		{"max concurrency as a string", `"MaxConcurrency": 10`, `"MaxConcurrency": "10"`, "MaxConcurrency"},
		{"max concurrency over 10000", `"MaxConcurrency": 10`, `"MaxConcurrency": 10001`, "MaxConcurrency"},
		{"backoff under 1", `"BackoffRate": 2`, `"BackoffRate": 0.5`, "BackoffRate"},
		{"a path field without a path", `"item.$": "$.item"`, `"item.$": "item"`, "item.$"},
		{"an unknown intrinsic", `States.StringToJson(`, `States.StringToJSON(`, "body.$"},
		{"a comparison with two operators", `"NumericEquals": 200`, `"NumericEquals": 200, "IsPresent": true`, "Choices"},
		{"a rule inside And with Next", `"IsPresent": true`, `"IsPresent": true, "Next": "Done"`, "Choices"},
		{"Next and End", `"Next": "Ok"`, `"Next": "Ok", "End": true`, "Call"},
		{"neither Next nor End", `"Next": "Ok",`, ``, "Call"},
		{"input type", `"InputType": "JSON"`, `"InputType": "JSONX"`, "InputType"},
		{"a writer without a bucket", `"Bucket": "my-bucket",`, ``, "Bucket"},
		{"a partition that is not one", `"Resource": "arn:aws:states:::lambda:invoke"`, `"Resource": "arn:${Partition}:states:::lambda:invoke"`, "Resource"},
		{"a Next to nowhere", `"Next": "Ok"`, `"Next": "Okay"`, `goes to "Okay"`},
		{"a Default to nowhere", `"Default": "Failed"`, `"Default": "Fail"`, `goes to "Fail"`},
		{"an unreachable state", `"Default": "Failed"`, `"Default": "Done"`, "Failed cannot be reached"},
		{"StartAt nowhere", `"StartAt": "Call"`, `"StartAt": "Cal"`, `StartAt "Cal"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(string(good), tt.old, tt.new_, 1)
			if broken == string(good) {
				t.Fatalf("%q is not in the definition:\n%s", tt.old, good)
			}
			err := ValidateStateMachine([]byte(broken))
			if !errors.Is(err, ErrStateMachine) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateStateMachine() = %v\nwant ErrStateMachine mentioning %q", err, tt.want)
			}
		})
	}
}

func TestStateMachineCFNLint(t *testing.T) {
	good, err := StateMachineDefinition([]byte(samStateMachine), "Machine", testSubs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err = StateMachineCFNLint(ctx, good)
	skipWithoutCFNLint(t, err)
	if err != nil {
		t.Fatalf("StateMachineCFNLint(): %v", err)
	}
	// A StartAt that names no state is one of the things E3601 sees.
	err = StateMachineCFNLint(ctx, []byte(strings.Replace(string(good), `"StartAt": "Call"`, `"StartAt": "Cal"`, 1)))
	if !errors.Is(err, ErrCFNLint) || !strings.Contains(err.Error(), ":E3601:") {
		t.Errorf("StateMachineCFNLint(StartAt to nowhere) = %v, want an E3601 finding", err)
	}
}
