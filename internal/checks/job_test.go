package checks

import (
	"errors"
	"strings"
	"testing"
)

const goodJob = `apiVersion: run.googleapis.com/v1
kind: Job
metadata:
  name: helios-render
spec:
  template:
    metadata:
      annotations:
        run.googleapis.com/execution-environment: gen2
    spec:
      taskCount: 7
      parallelism: 3
      template:
        spec:
          maxRetries: 3
          timeoutSeconds: "3600"
          containers:
            - image: us-central1-docker.pkg.dev/p/helios/helios-render:v1
              resources:
                limits:
                  cpu: "2"
                  memory: 4096Mi
              env:
                - name: HELIOS_JOB_PATH
                  value: gs://jobs/job.json
`

func TestJob(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string // substring of the error; "" for none
	}{
		{name: "good", data: goodJob},
		{name: "timeoutSeconds unquoted", data: strings.Replace(goodJob, `timeoutSeconds: "3600"`, "timeoutSeconds: 3600", 1),
			wantErr: "invalid use of ,string struct tag"},
		{name: "unknown field deep in the task", data: strings.Replace(goodJob, "maxRetries: 3", "maxRetries: 3\n          retries: 3", 1),
			wantErr: `unknown field "retries"`},
		{name: "a service's field", data: strings.Replace(goodJob, "taskCount: 7", "taskCount: 7\n      containerConcurrency: 1", 1),
			wantErr: `unknown field "containerConcurrency"`},
		{name: "wrong type", data: strings.Replace(goodJob, "taskCount: 7", "taskCount: seven", 1), wantErr: "taskCount"},
		{name: "a service", data: strings.Replace(goodJob, "kind: Job", "kind: Service", 1), wantErr: `kind "Service"`},
		{name: "wrong apiVersion", data: strings.Replace(goodJob, "run.googleapis.com/v1", "serving.knative.dev/v1", 1),
			wantErr: `apiVersion "serving.knative.dev/v1"`},
		{name: "two documents", data: goodJob + "---\n" + goodJob, wantErr: "2 yaml documents"},
		{name: "duplicate key", data: strings.Replace(goodJob, "taskCount: 7", "taskCount: 7\n      taskCount: 8", 1), wantErr: "taskCount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := Job([]byte(tt.data))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Job: %v", err)
			case tt.wantErr == "":
				task := job.Spec.Template.Spec.Template.Spec
				if job.Spec.Template.Spec.TaskCount != 7 || task.TimeoutSeconds != 3600 || task.MaxRetries != 3 {
					t.Errorf("decoded %+v", job.Spec.Template.Spec)
				}
			case err == nil || !errors.Is(err, ErrBadJob) || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Job error = %v, want ErrBadJob mentioning %q", err, tt.wantErr)
			}
		})
	}
}
