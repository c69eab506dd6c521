package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/checks"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// motoAccount is the account moto_server answers as.
const motoAccount = "123456789012"

// TestStateMachineTemplateCreates gives the definition of the state
// machine that init aws --orchestrator stepfunctions renders, as
// CloudFormation would substitute it, to moto's Step Functions
// CreateStateMachine with its ASL parser on (moto's port of LocalStack's
// grammar: every state, field, enum and intrinsic function call is
// parsed), then reads it back with DescribeStateMachine. A definition
// that breaks the grammar is refused by the same server, so that the
// acceptance means something. moto runs no Distributed Map, so nothing
// is executed here.
func TestStateMachineTemplateCreates(t *testing.T) {
	in := generator.Defaults(generator.AWS)
	in.JobBucket, in.OutputURL = "my-render-jobs", "s3://my-render-outputs/renders"
	in.SetOrchestrator(generator.OrchestratorStepFunctions)
	files, err := generator.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	def, err := checks.StateMachineDefinition(files["template.yaml"].Data, "StateMachine", map[string]string{
		"Partition": "aws",
		"WorkerArn": "arn:aws:lambda:" + s3test.Region + ":" + motoAccount + ":function:" + in.Name,
	})
	if err != nil {
		t.Fatal(err)
	}

	// The parser is a setting of the whole server: a server of this test's own.
	srv := s3test.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(t))
	defer cancel()
	motoConfig(ctx, t, srv, `{"stepfunctions": {"execute_state_machine": true}}`)

	role := "arn:aws:iam::" + motoAccount + ":role/" + in.StateMachineName()
	var created struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	status, body := stepFunctions(ctx, t, srv, "CreateStateMachine", map[string]any{
		"name": in.StateMachineName(), "definition": string(def), "roleArn": role, "type": "STANDARD",
	}, &created)
	if status != http.StatusOK {
		t.Fatalf("CreateStateMachine: %d %s\n%s", status, body, def)
	}
	if want := in.StateMachineArn("aws", motoAccount); created.StateMachineArn != want {
		t.Errorf("CreateStateMachine made %s, want %s", created.StateMachineArn, want)
	}
	var described struct {
		Name       string `json:"name"`
		Definition string `json:"definition"`
		Type       string `json:"type"`
	}
	if status, body := stepFunctions(ctx, t, srv, "DescribeStateMachine", map[string]any{"stateMachineArn": created.StateMachineArn}, &described); status != http.StatusOK {
		t.Fatalf("DescribeStateMachine: %d %s", status, body)
	}
	if described.Name != in.StateMachineName() || described.Type != "STANDARD" || described.Definition != string(def) {
		t.Errorf("DescribeStateMachine = %s (%s), definition\n%s\nwant %s (STANDARD) as created", described.Name, described.Type, described.Definition, in.StateMachineName())
	}

	// The same server refuses what its parser does not accept.
	for _, broken := range []struct{ name, old, new string }{
		{"jitter", `"JitterStrategy": "FULL"`, `"JitterStrategy": "FUL"`},
		{"intrinsic", `States.StringToJson(`, `States.StringToJsonn(`},
		{"mode", `"Mode": "DISTRIBUTED"`, `"Mode": "DISTRIBUTE"`},
	} {
		bad := strings.Replace(string(def), broken.old, broken.new, 1)
		if bad == string(def) {
			t.Fatalf("%s: %q is not in the definition", broken.name, broken.old)
		}
		status, body := stepFunctions(ctx, t, srv, "CreateStateMachine", map[string]any{
			"name": in.StateMachineName() + "-" + broken.name, "definition": bad, "roleArn": role,
		}, nil)
		// InvalidDefinition, with the parser's message (moto's server
		// mode leaves __type null).
		if status != http.StatusBadRequest || !strings.Contains(body, "ASLParserException") && !strings.Contains(body, "in definition") {
			t.Errorf("CreateStateMachine with a broken %s: %d %.300s, want 400 and the parser's message", broken.name, status, body)
		}
	}
}

// motoConfig posts a configuration to moto's own API. (moto's answer
// holds only some settings: the effect is checked by the caller.)
func motoConfig(ctx context.Context, t *testing.T, srv *s3test.Server, config string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.Endpoint+"/moto-api/config", strings.NewReader(config))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto config: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("moto config: %s %s", resp.Status, data)
	}
}

// stepFunctions calls an action of moto's Step Functions API (JSON 1.0),
// SigV4-signed for "states" as the SDK would (moto routes an unsigned
// request to another service), decodes a 200 answer into out unless it is
// nil, and returns the status and the body.
func stepFunctions(ctx context.Context, t *testing.T, srv *s3test.Server, action string, in map[string]any, out any) (int, string) {
	t.Helper()
	payload, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.Endpoint+"/", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+action)
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "states", s3test.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: %v in %s", action, err, data)
		}
	}
	return resp.StatusCode, fmt.Sprintf("%.2000s", data)
}
