package worker_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

var allEnv = []string{
	worker.EnvWorkspaceRoot, worker.EnvOutputLimit, worker.EnvChunkTimeout, worker.EnvTimeoutMargin,
	worker.EnvSpecMaxBytes, worker.EnvSpecTimeout, worker.EnvBodyLimit, worker.EnvBodyTimeout,
	worker.EnvShutdownGrace, worker.EnvPassthrough, worker.EnvOutputURL, worker.EnvAssetsMaxBytes,
	worker.EnvAssetsConcurrency, worker.EnvAssetsTimeout, worker.EnvAssetsCacheDir, worker.EnvAssetsCacheBytes,
	worker.EnvAllowedJobPaths, worker.EnvOutputMaxBytes, worker.EnvUploadStallTimeout,
	worker.EnvAssetsStallTimeout, worker.EnvChunkIdleTimeout,
	worker.EnvWarmRenderer, worker.EnvWarmRendererScript, worker.EnvWarmRendererMaxMemory,
}

// clearEnv unsets every HELIOS_* variable the config reads (empty counts
// as unset), so that the test does not depend on its environment.
func clearEnv(t *testing.T) {
	for _, name := range allEnv {
		t.Setenv(name, "")
	}
}

func TestEnvNames(t *testing.T) {
	want := []string{"HELIOS_WORKSPACE_ROOT", "HELIOS_OUTPUT_LIMIT", "HELIOS_CHUNK_TIMEOUT",
		"HELIOS_TIMEOUT_MARGIN", "HELIOS_SPEC_MAX_BYTES", "HELIOS_SPEC_TIMEOUT", "HELIOS_BODY_LIMIT",
		"HELIOS_BODY_TIMEOUT", "HELIOS_SHUTDOWN_GRACE", "HELIOS_PASSTHROUGH", "HELIOS_OUTPUT_URL",
		"HELIOS_ASSETS_MAX_BYTES", "HELIOS_ASSETS_CONCURRENCY", "HELIOS_ASSETS_TIMEOUT",
		"HELIOS_ASSETS_CACHE_DIR", "HELIOS_ASSETS_CACHE_BYTES", "HELIOS_ALLOWED_JOB_PATHS", "HELIOS_OUTPUT_MAX_BYTES",
		"HELIOS_UPLOAD_STALL_TIMEOUT", "HELIOS_ASSETS_STALL_TIMEOUT", "HELIOS_CHUNK_IDLE_TIMEOUT",
		"HELIOS_WARM_RENDERER", "HELIOS_WARM_RENDERER_SCRIPT", "HELIOS_WARM_RENDERER_MAX_MEMORY"}
	if len(allEnv) != len(want) {
		t.Fatalf("%d variables, want %d", len(allEnv), len(want))
	}
	for i, name := range allEnv {
		if name != want[i] {
			t.Errorf("variable %d is %s, want %s", i, name, want[i])
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	c := worker.DefaultConfig()
	checks := []struct {
		name      string
		got, want any
	}{
		{"WorkspaceRoot", c.WorkspaceRoot, "/tmp"},
		{"OutputLimit", c.OutputLimit, 1 << 20},
		{"ChunkTimeout", c.ChunkTimeout, time.Duration(0)},
		{"ChunkIdleTimeout", c.ChunkIdleTimeout, 5 * time.Minute},
		{"WarmRenderer", c.WarmRenderer, true},
		{"WarmRendererScript", c.WarmRendererScript, ""},
		{"WarmRendererMaxMemory", c.WarmRendererMaxMemory, int64(1 << 30)},
		{"TimeoutMargin", c.TimeoutMargin, 2 * time.Second},
		{"SpecMaxBytes", c.SpecMaxBytes, int64(10 << 20)},
		{"SpecTimeout", c.SpecTimeout, 30 * time.Second},
		{"BodyLimit", c.BodyLimit, int64(1 << 20)},
		{"BodyTimeout", c.BodyTimeout, 15 * time.Second},
		{"ShutdownGrace", c.ShutdownGrace, 8 * time.Second},
		{"Passthrough", c.Passthrough, true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("DefaultConfig().%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigFromEnvUnset(t *testing.T) {
	clearEnv(t)
	c := worker.ConfigFromEnv()
	if !reflect.DeepEqual(c, worker.DefaultConfig()) {
		t.Errorf("ConfigFromEnv() with nothing set = %+v, want the defaults", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestConfigFromEnvAll(t *testing.T) {
	root := t.TempDir()
	for name, v := range map[string]string{
		worker.EnvWorkspaceRoot: root,
		worker.EnvOutputLimit:   "2048",
		worker.EnvChunkTimeout:  "90s",
		worker.EnvTimeoutMargin: "1500ms",
		worker.EnvSpecMaxBytes:  "12345",
		worker.EnvSpecTimeout:   "5s",
		worker.EnvBodyLimit:     "4096",
		worker.EnvBodyTimeout:   "750ms",
		worker.EnvShutdownGrace: "9.5s",
		worker.EnvPassthrough:   "false",

		worker.EnvOutputURL:          "s3://renders/out",
		worker.EnvAssetsMaxBytes:     "1000000",
		worker.EnvAssetsConcurrency:  "3",
		worker.EnvAssetsTimeout:      "2m",
		worker.EnvAssetsCacheDir:     "/srv/cache",
		worker.EnvAssetsCacheBytes:   "0",
		worker.EnvAllowedJobPaths:    "s3://jobs/, gs://jobs/team1/",
		worker.EnvOutputMaxBytes:     "5000000",
		worker.EnvUploadStallTimeout: "45s",
		worker.EnvAssetsStallTimeout: "20s",
		worker.EnvChunkIdleTimeout:   "7m30s",

		worker.EnvWarmRenderer:          "off",
		worker.EnvWarmRendererScript:    "/opt/helios/warm-renderer.mjs",
		worker.EnvWarmRendererMaxMemory: "500000000",
	} {
		t.Setenv(name, v)
	}
	got := worker.ConfigFromEnv()
	want := worker.Config{
		WorkspaceRoot: root,
		OutputLimit:   2048,
		ChunkTimeout:  90 * time.Second,
		TimeoutMargin: 1500 * time.Millisecond,
		SpecMaxBytes:  12345,
		SpecTimeout:   5 * time.Second,
		BodyLimit:     4096,
		BodyTimeout:   750 * time.Millisecond,
		ShutdownGrace: 9500 * time.Millisecond,
		Passthrough:   false,

		OutputURL:          "s3://renders/out",
		AssetsMaxBytes:     1_000_000,
		AssetsConcurrency:  3,
		AssetsTimeout:      2 * time.Minute,
		AssetsCacheDir:     "/srv/cache",
		AssetsCacheBytes:   0,
		AllowedJobPaths:    []string{"s3://jobs/", "gs://jobs/team1/"},
		OutputMaxBytes:     5_000_000,
		UploadStallTimeout: 45 * time.Second,
		AssetsStallTimeout: 20 * time.Second,
		ChunkIdleTimeout:   7*time.Minute + 30*time.Second,

		WarmRendererScript:    "/opt/helios/warm-renderer.mjs",
		WarmRenderer:          false,
		WarmRendererMaxMemory: 500_000_000,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigFromEnv() = %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestConfigFromEnvPassthrough(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "TRUE": true, "false": false, "0": false, "F": false} {
		clearEnv(t)
		t.Setenv(worker.EnvPassthrough, v)
		c := worker.ConfigFromEnv()
		if c.Passthrough != want || c.Validate() != nil {
			t.Errorf("%s=%s: Passthrough = %v, Validate() = %v", worker.EnvPassthrough, v, c.Passthrough, c.Validate())
		}
	}
}

func TestConfigFromEnvMalformed(t *testing.T) {
	def := worker.DefaultConfig()
	tests := []struct {
		name, value string
		field       func(worker.Config) any
	}{
		{worker.EnvOutputLimit, "1MiB", func(c worker.Config) any { return c.OutputLimit }},
		{worker.EnvOutputLimit, "1.5", func(c worker.Config) any { return c.OutputLimit }},
		{worker.EnvChunkTimeout, "90", func(c worker.Config) any { return c.ChunkTimeout }},
		{worker.EnvTimeoutMargin, "two seconds", func(c worker.Config) any { return c.TimeoutMargin }},
		{worker.EnvSpecMaxBytes, "10MB", func(c worker.Config) any { return c.SpecMaxBytes }},
		{worker.EnvSpecMaxBytes, "99999999999999999999", func(c worker.Config) any { return c.SpecMaxBytes }},
		{worker.EnvSpecTimeout, "5 s", func(c worker.Config) any { return c.SpecTimeout }},
		{worker.EnvBodyLimit, "-", func(c worker.Config) any { return c.BodyLimit }},
		{worker.EnvBodyTimeout, "15", func(c worker.Config) any { return c.BodyTimeout }},
		{worker.EnvShutdownGrace, "8", func(c worker.Config) any { return c.ShutdownGrace }},
		{worker.EnvPassthrough, "yes", func(c worker.Config) any { return c.Passthrough }},
		{worker.EnvAssetsMaxBytes, "2GiB", func(c worker.Config) any { return c.AssetsMaxBytes }},
		{worker.EnvAssetsConcurrency, "many", func(c worker.Config) any { return c.AssetsConcurrency }},
		{worker.EnvAssetsTimeout, "600", func(c worker.Config) any { return c.AssetsTimeout }},
		{worker.EnvChunkIdleTimeout, "300", func(c worker.Config) any { return c.ChunkIdleTimeout }},
		{worker.EnvWarmRenderer, "false", func(c worker.Config) any { return c.WarmRenderer }},
		{worker.EnvWarmRendererMaxMemory, "1GiB", func(c worker.Config) any { return c.WarmRendererMaxMemory }},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.name, tc.value)
			c := worker.ConfigFromEnv()
			if got, want := tc.field(c), tc.field(def); got != want {
				t.Errorf("malformed %s=%q gave %v, want the default %v", tc.name, tc.value, got, want)
			}
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil for %s=%q", tc.name, tc.value)
			}
			if !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.value) {
				t.Errorf("Validate() = %q, want it to name %s and its value %q", err, tc.name, tc.value)
			}
		})
	}
}

func TestConfigFromEnvSeveralMalformed(t *testing.T) {
	clearEnv(t)
	t.Setenv(worker.EnvOutputLimit, "lots")
	t.Setenv(worker.EnvSpecTimeout, "soon")
	t.Setenv(worker.EnvChunkTimeout, "90s") // well formed, still applied
	c := worker.ConfigFromEnv()
	if c.ChunkTimeout != 90*time.Second {
		t.Errorf("ChunkTimeout = %v, want 90s", c.ChunkTimeout)
	}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), worker.EnvOutputLimit) || !strings.Contains(err.Error(), worker.EnvSpecTimeout) {
		t.Errorf("Validate() = %v, want both variables named", err)
	}
}

func TestValidateShutdownGrace(t *testing.T) {
	for _, tc := range []struct {
		grace time.Duration
		ok    bool
	}{
		{0, true}, {8 * time.Second, true}, {9999 * time.Millisecond, true},
		{10 * time.Second, false}, {10*time.Second + 1, false}, {time.Minute, false},
	} {
		c := worker.DefaultConfig()
		c.ShutdownGrace = tc.grace
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("ShutdownGrace %v: Validate() = %v, want ok %v", tc.grace, err, tc.ok)
		}
	}
	clearEnv(t)
	t.Setenv(worker.EnvShutdownGrace, "10s")
	c := worker.ConfigFromEnv()
	if c.ShutdownGrace != 10*time.Second {
		t.Errorf("ShutdownGrace = %v, want 10s as set", c.ShutdownGrace)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "10s") {
		t.Errorf("%s=10s: Validate() = %v, want a refusal", worker.EnvShutdownGrace, err)
	}
}

func TestValidateRanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*worker.Config)
	}{
		{worker.EnvWorkspaceRoot, func(c *worker.Config) { c.WorkspaceRoot = "" }},
		{worker.EnvOutputLimit, func(c *worker.Config) { c.OutputLimit = 0 }},
		{worker.EnvOutputLimit, func(c *worker.Config) { c.OutputLimit = -1 }},
		{worker.EnvSpecMaxBytes, func(c *worker.Config) { c.SpecMaxBytes = 0 }},
		{worker.EnvSpecMaxBytes, func(c *worker.Config) { c.SpecMaxBytes = -5 }},
		{worker.EnvBodyLimit, func(c *worker.Config) { c.BodyLimit = 0 }},
		{worker.EnvChunkTimeout, func(c *worker.Config) { c.ChunkTimeout = -time.Second }},
		{worker.EnvChunkIdleTimeout, func(c *worker.Config) { c.ChunkIdleTimeout = -1 }},
		{worker.EnvTimeoutMargin, func(c *worker.Config) { c.TimeoutMargin = -1 }},
		{worker.EnvSpecTimeout, func(c *worker.Config) { c.SpecTimeout = 0 }},
		{worker.EnvSpecTimeout, func(c *worker.Config) { c.SpecTimeout = -time.Second }},
		{worker.EnvBodyTimeout, func(c *worker.Config) { c.BodyTimeout = 0 }},
		{worker.EnvShutdownGrace, func(c *worker.Config) { c.ShutdownGrace = -1 }},
		{worker.EnvAssetsMaxBytes, func(c *worker.Config) { c.AssetsMaxBytes = 0 }},
		{worker.EnvAssetsConcurrency, func(c *worker.Config) { c.AssetsConcurrency = 0 }},
		{worker.EnvAssetsConcurrency, func(c *worker.Config) { c.AssetsConcurrency = 1000 }},
		{worker.EnvAssetsTimeout, func(c *worker.Config) { c.AssetsTimeout = 0 }},
		{worker.EnvOutputURL, func(c *worker.Config) { c.OutputURL = "https://example.com/out" }},
		{worker.EnvOutputURL, func(c *worker.Config) { c.OutputURL = "s3:///no-bucket" }},
		{worker.EnvOutputURL, func(c *worker.Config) { c.OutputURL = "gs://" }},
	} {
		c := worker.DefaultConfig()
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%+v: Validate() = %v, want an error naming %s", c, err, tc.name)
		}
	}
}

// A well-formed value out of range is refused by Validate, naming its variable.
func TestConfigFromEnvOutOfRange(t *testing.T) {
	clearEnv(t)
	t.Setenv(worker.EnvOutputLimit, "-5")
	c := worker.ConfigFromEnv()
	if c.OutputLimit != -5 {
		t.Errorf("OutputLimit = %d, want -5 as set", c.OutputLimit)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), worker.EnvOutputLimit+"=-5") {
		t.Errorf("Validate() = %v, want it to name %s=-5", err, worker.EnvOutputLimit)
	}
}

func TestValidateOutputURL(t *testing.T) {
	for _, u := range []string{"", "s3://renders", "s3://renders/out/", "gs://b/p", "file:///srv/out", "/srv/out", "out"} {
		c := worker.DefaultConfig()
		c.OutputURL = u
		if err := c.Validate(); err != nil {
			t.Errorf("OutputURL %q: Validate() = %v", u, err)
		}
	}
}

// HELIOS_CHUNK_IDLE_TIMEOUT is a Go duration; 0 turns the watch off, and a
// malformed or negative value is refused, naming the variable.
func TestConfigFromEnvChunkIdleTimeout(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", worker.DefaultChunkIdleTimeout, true},
		{"0", 0, true},
		{"0s", 0, true},
		{"90s", 90 * time.Second, true},
		{"1h", time.Hour, true},
		{"1500ms", 1500 * time.Millisecond, true},
		{"-1s", -time.Second, false},
		{"300", worker.DefaultChunkIdleTimeout, false},
		{"five minutes", worker.DefaultChunkIdleTimeout, false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(worker.EnvChunkIdleTimeout, tc.value)
			c := worker.ConfigFromEnv()
			if c.ChunkIdleTimeout != tc.want {
				t.Errorf("ChunkIdleTimeout = %v, want %v", c.ChunkIdleTimeout, tc.want)
			}
			err := c.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			if err != nil && (!strings.Contains(err.Error(), worker.EnvChunkIdleTimeout) || !strings.Contains(err.Error(), tc.value)) {
				t.Errorf("Validate() = %q, want it to name %s and %q", err, worker.EnvChunkIdleTimeout, tc.value)
			}
		})
	}
}
