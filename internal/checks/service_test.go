package checks

import (
	"errors"
	"strings"
	"testing"
)

const goodService = `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: helios-worker
  annotations:
    run.googleapis.com/invoker-iam-disabled: "false"
spec:
  template:
    metadata:
      annotations:
        run.googleapis.com/execution-environment: gen2
    spec:
      containerConcurrency: 1
      timeoutSeconds: 900
      containers:
        - image: us-central1-docker.pkg.dev/p/helios/helios-worker:v1
          ports:
            - name: http1
              containerPort: 8080
          resources:
            limits:
              cpu: "2"
              memory: 4096Mi
`

func TestService(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string // substring of the error; "" for none
	}{
		{name: "good", data: goodService},
		{
			name:    "unknown top-level field",
			data:    goodService + "status2: {}\n",
			wantErr: `unknown field "status2"`,
		},
		{
			name:    "unknown field deep in a container",
			data:    strings.Replace(goodService, "containerPort: 8080", "containerPort: 8080\n              hostPort: 80", 1),
			wantErr: `unknown field "hostPort"`,
		},
		{
			name:    "misspelt template spec field",
			data:    strings.Replace(goodService, "timeoutSeconds:", "timeoutSecond:", 1),
			wantErr: `unknown field "timeoutSecond"`,
		},
		{
			name:    "wrong type",
			data:    strings.Replace(goodService, "containerConcurrency: 1", "containerConcurrency: one", 1),
			wantErr: "containerConcurrency",
		},
		{
			name:    "duplicate key",
			data:    strings.Replace(goodService, "timeoutSeconds: 900", "timeoutSeconds: 900\n      timeoutSeconds: 300", 1),
			wantErr: "timeoutSeconds",
		},
		{
			name:    "wrong kind",
			data:    strings.Replace(goodService, "kind: Service", "kind: Job", 1),
			wantErr: `kind "Job"`,
		},
		{
			name:    "wrong apiVersion",
			data:    strings.Replace(goodService, "serving.knative.dev/v1", "run.googleapis.com/v1", 1),
			wantErr: `apiVersion "run.googleapis.com/v1"`,
		},
		{
			name:    "no apiVersion",
			data:    strings.Replace(goodService, "apiVersion: serving.knative.dev/v1\n", "", 1),
			wantErr: `apiVersion ""`,
		},
		{
			name:    "second document",
			data:    goodService + "---\nkind: Other\n",
			wantErr: "2 yaml documents",
		},
		{
			name:    "empty",
			data:    "",
			wantErr: "0 yaml documents",
		},
		{
			name:    "not yaml",
			data:    "kind: [Service\n",
			wantErr: "yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := Service([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrBadService) {
					t.Fatalf("Service() error = %v; want ErrBadService containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Service(): %v", err)
			}
			spec := svc.Spec.Template.Spec
			if spec.ContainerConcurrency != 1 || spec.TimeoutSeconds != 900 {
				t.Errorf("containerConcurrency, timeoutSeconds = %d, %d; want 1, 900", spec.ContainerConcurrency, spec.TimeoutSeconds)
			}
			c := spec.Containers[0]
			if c.Ports[0].ContainerPort != 8080 || c.Resources.Limits["memory"] != "4096Mi" {
				t.Errorf("container = port %d, limits %v", c.Ports[0].ContainerPort, c.Resources.Limits)
			}
			if got := svc.Spec.Template.Metadata.Annotations["run.googleapis.com/execution-environment"]; got != "gen2" {
				t.Errorf("execution-environment = %q, want gen2", got)
			}
		})
	}
}
