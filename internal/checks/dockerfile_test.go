package checks

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

func TestDockerfile(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		wantRules []string // rule names, in order; nil for none
		wantErr   string   // substring of the error; "" for none
	}{
		{
			name: "clean multi-stage",
			data: `# syntax=docker/dockerfile:1
ARG GO_IMAGE=golang:1.26.8
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`,
		},
		{
			// Resolving this image over the network would fail or hang:
			// the offline resolver answers instead.
			name: "unreachable registry is never contacted",
			data: "FROM registry.invalid:5000/base:1.0\nENTRYPOINT [\"/app\"]\n",
		},
		{
			name:      "lowercase from and mixed casing",
			data:      "from debian:13.1-slim AS build\nFROM debian:13.1-slim\nCOPY --from=build /x /x\n",
			wantRules: []string{"FromAsCasing", "ConsistentInstructionCasing"},
		},
		{
			name:      "stage name casing",
			data:      "FROM debian:13.1-slim AS Build\nFROM debian:13.1-slim\nCOPY --from=Build /x /x\n",
			wantRules: []string{"StageNameCasing"},
		},
		{
			name:      "shell-form entrypoint",
			data:      "FROM debian:13.1-slim\nENTRYPOINT /usr/local/bin/app\n",
			wantRules: []string{"JSONArgsRecommended"},
		},
		{
			name:      "undefined variable",
			data:      "FROM debian:13.1-slim\nENV PATH=$NOPE/bin\n",
			wantRules: []string{"UndefinedVar"},
		},
		{
			name:    "unknown instruction",
			data:    "FROM debian:13.1-slim\nFROMM debian\n",
			wantErr: "unknown instruction",
		},
		{
			name:    "no stage",
			data:    "RUN true\n",
			wantErr: "dockerfile does not build",
		},
		{
			name:      "duplicate stage name",
			data:      "FROM debian:13.1-slim AS x\nFROM debian:13.1-slim AS x\n",
			wantRules: []string{"DuplicateStageName"},
		},
		{
			name:    "blank base image",
			data:    "ARG BASE\nFROM ${BASE}\n",
			wantErr: "dockerfile does not build",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testdeadline.Context(t)
			got, err := Dockerfile(ctx, []byte(tt.data))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadDockerfile) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Dockerfile() = %q, %v; want ErrBadDockerfile containing %q", got, err, tt.wantErr)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatalf("Dockerfile(): %v", err)
			}
			var rules []string
			for _, w := range got {
				rule, _, _ := strings.Cut(w, ":")
				rules = append(rules, rule)
				if !strings.Contains(w, " (line ") {
					t.Errorf("warning %q has no line", w)
				}
			}
			if !slices.Equal(rules, tt.wantRules) {
				t.Errorf("Dockerfile() rules = %q, want %q; warnings:\n%s", rules, tt.wantRules, strings.Join(got, "\n"))
			}
		})
	}
}

// TestDockerfileLine checks that the reported line is the offending one.
func TestDockerfileLine(t *testing.T) {
	data := "FROM debian:13.1-slim\n\n\nCMD echo hi\n"
	got, err := Dockerfile(t.Context(), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 4)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("Dockerfile() = %q, want [%q]", got, want)
	}
}
