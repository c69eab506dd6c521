package checks

import (
	"context"
	_ "crypto/sha256" // digest.FromBytes needs SHA-256 registered
	"encoding/json"
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// ErrBadDockerfile is wrapped by the error [Dockerfile] returns for a
// Dockerfile that does not parse or would not build.
var ErrBadDockerfile = errors.New("dockerfile does not build")

// Dockerfile parses and lints data with BuildKit's Dockerfile frontend, the
// code behind docker build --check, and returns one string per lint
// finding, "RuleName: detail (line N)", in the order BuildKit reports them.
// A Dockerfile that does not parse or would not build is an error. Base
// images are never fetched: every image resolves to a minimal linux config.
func Dockerfile(ctx context.Context, data []byte) ([]string, error) {
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", data)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(ctx, data, dockerfile2llb.ConvertOpt{
		SourceMap:    sm,
		MetaResolver: offlineResolver{},
	})
	if err != nil {
		return nil, fmt.Errorf("linting dockerfile: %w", err)
	}
	if res.Error != nil {
		return nil, fmt.Errorf("%w: %s%s", ErrBadDockerfile, res.Error.Message, lineSuffix(&res.Error.Location))
	}
	out := make([]string, 0, len(res.Warnings))
	for _, w := range res.Warnings {
		out = append(out, formatWarning(w))
	}
	return out, nil
}

func formatWarning(w lint.Warning) string {
	detail := w.Detail
	if detail == "" {
		detail = w.Description
	}
	return w.RuleName + ": " + detail + lineSuffix(w.Location)
}

// lineSuffix is " (line N)" for the first line of loc, or "" without one.
func lineSuffix(loc *pb.Location) string {
	if loc == nil || len(loc.Ranges) == 0 || loc.Ranges[0].Start == nil {
		return ""
	}
	return fmt.Sprintf(" (line %d)", loc.Ranges[0].Start.Line)
}

// offlineResolver answers every image lookup with a minimal OCI image
// config for the requested platform, so that linting touches no registry.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	os, arch := "linux", "amd64"
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		os, arch = opt.ImageOpt.Platform.OS, opt.ImageOpt.Platform.Architecture
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           os,
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{}},
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("image config for %s: %w", ref, err)
	}
	return ref, digest.FromBytes(cfg), cfg, nil
}

var _ sourceresolver.ImageMetaResolver = offlineResolver{}
