package worker

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
)

// Environment variables read by [ConfigFromEnv].
const (
	EnvWorkspaceRoot = "HELIOS_WORKSPACE_ROOT" // directory that holds per-invocation workspaces
	EnvOutputLimit   = "HELIOS_OUTPUT_LIMIT"   // bytes of each stream's tail kept for the response
	EnvChunkTimeout  = "HELIOS_CHUNK_TIMEOUT"  // time limit of one chunk, 0 for none
	EnvTimeoutMargin = "HELIOS_TIMEOUT_MARGIN" // time kept before a platform deadline to answer
	EnvSpecMaxBytes  = "HELIOS_SPEC_MAX_BYTES" // largest job spec accepted
	EnvSpecTimeout   = "HELIOS_SPEC_TIMEOUT"   // time limit for loading the job spec and assets
	EnvBodyLimit     = "HELIOS_BODY_LIMIT"     // largest HTTP request body accepted (Cloud Run)
	EnvBodyTimeout   = "HELIOS_BODY_TIMEOUT"   // time a client gets to send its request body (Cloud Run)
	EnvShutdownGrace = "HELIOS_SHUTDOWN_GRACE" // time running chunks get to finish on SIGTERM (Cloud Run)
	EnvPassthrough   = "HELIOS_PASSTHROUGH"    // copy chunk output live to the worker's own stdout/stderr

	EnvOutputURL          = "HELIOS_OUTPUT_URL"            // folder that chunk outputs are uploaded to, when the spec names none
	EnvAssetsMaxBytes     = transfer.EnvAssetsMaxBytes     // largest total of one chunk's asset folder
	EnvAssetsConcurrency  = "HELIOS_ASSETS_CONCURRENCY"    // asset files downloaded at once
	EnvAssetsTimeout      = "HELIOS_ASSETS_TIMEOUT"        // time limit for downloading the asset folder
	EnvAssetsCacheDir     = "HELIOS_ASSETS_CACHE_DIR"      // folder of the warm instance's asset cache
	EnvAssetsCacheBytes   = "HELIOS_ASSETS_CACHE_BYTES"    // bound of the asset cache, 0 for none
	EnvAllowedJobPaths    = "HELIOS_ALLOWED_JOB_PATHS"     // comma-separated location prefixes a jobPath must be below
	EnvOutputMaxBytes     = transfer.EnvOutputMaxBytes     // largest outputFile uploaded, 0 for no bound
	EnvUploadStallTimeout = transfer.EnvUploadStallTimeout // time an output upload may make no progress
	EnvAssetsStallTimeout = transfer.EnvAssetsStallTimeout // time an asset download may receive nothing before it is tried again
	EnvChunkIdleTimeout   = "HELIOS_CHUNK_IDLE_TIMEOUT"    // time a chunk may print nothing and grow no file before it is killed, 0 for none

	EnvWarmRenderer          = "HELIOS_WARM_RENDERER"            // off: every chunk runs as a process
	EnvWarmRendererScript    = "HELIOS_WARM_RENDERER_SCRIPT"     // the warm renderer's script, set in the --deps helios images
	EnvWarmRendererMaxMemory = "HELIOS_WARM_RENDERER_MAX_MEMORY" // bytes the warm renderer may hold after a chunk before it is replaced
)

// Config holds the worker's settings. The zero value is not useful; start
// from [DefaultConfig] or [ConfigFromEnv].
type Config struct {
	// WorkspaceRoot is the directory below which each invocation gets a
	// fresh workspace, removed when the invocation ends.
	WorkspaceRoot string
	// OutputLimit is how many bytes of the end of each stream (stdout and
	// stderr) are kept for the response.
	OutputLimit int
	// ChunkTimeout bounds one chunk's run; 0 leaves only the platform's.
	ChunkTimeout time.Duration
	// ChunkIdleTimeout kills a chunk whose processes wrote nothing to
	// stdout or stderr and grew no file in its workspace for that long
	// ([ErrIdle], [KindIdle]); 0 turns the watch off. The default is
	// [DefaultChunkIdleTimeout].
	ChunkIdleTimeout time.Duration
	// TimeoutMargin is how long before a platform deadline the chunk is
	// killed, so that the worker still has time to answer.
	TimeoutMargin time.Duration
	// SpecMaxBytes bounds the size of the job spec.
	SpecMaxBytes int64
	// SpecTimeout bounds the time to load the job spec.
	SpecTimeout time.Duration
	// OutputURL is the folder (prefix) that each chunk's outputFile is
	// uploaded to after the command exits 0, when the job spec has no
	// outputUrl; "" uploads nothing.
	OutputURL string
	// OutputMaxBytes bounds the size of the outputFile that is uploaded;
	// 0 (the default) leaves it unbounded.
	OutputMaxBytes int64
	// UploadStallTimeout cuts an output upload that made no progress for
	// that long; the whole upload stays within the invocation's deadline.
	UploadStallTimeout time.Duration
	// AssetsMaxBytes bounds the total size of a job's asset folder.
	AssetsMaxBytes int64
	// AssetsStallTimeout is how long an asset download may receive
	// nothing before it is cut and tried again (twice at most).
	AssetsStallTimeout time.Duration
	// AssetsConcurrency is how many asset files are downloaded at once.
	AssetsConcurrency int
	// AssetsTimeout bounds the time to download the asset folder.
	AssetsTimeout time.Duration
	// AssetsCacheDir is the folder that keeps downloaded asset files for
	// the next chunks on this instance; "" is "helios-cache" below
	// WorkspaceRoot, beside the workspaces (it must be on their file
	// system for the cache to place files without copying them).
	AssetsCacheDir string
	// AssetsCacheBytes bounds the asset cache; 0 turns it off, and a
	// negative value (the default) is a quarter of the free space of
	// WorkspaceRoot's file system when the first assets are fetched, at
	// most 2 GiB.
	AssetsCacheBytes int64
	// AllowedJobPaths, when not empty, lists the location prefixes that a
	// jobPath must be below; any other jobPath is refused before anything
	// is fetched.
	AllowedJobPaths []string
	// BodyLimit bounds an HTTP request body (Cloud Run).
	BodyLimit int64
	// BodyTimeout bounds the time a client takes to send its request body
	// (Cloud Run), so that a stalled client holds only its own connection.
	BodyTimeout time.Duration
	// ShutdownGrace is how long running chunks may finish after SIGTERM
	// (Cloud Run); it must stay under Cloud Run's 10 s.
	ShutdownGrace time.Duration
	// Passthrough copies chunk output live to the worker's stdout and
	// stderr, which are the platform's logs.
	Passthrough bool
	// WarmRendererScript is the warm renderer's script, which the images
	// of --deps helios ship: with it, and WarmRenderer on, a chunk whose
	// command is a `helios render` that it takes renders in a Node
	// process kept between chunks. "" runs every chunk as a process.
	WarmRendererScript string
	// WarmRenderer is off with HELIOS_WARM_RENDERER=off.
	WarmRenderer bool
	// WarmRendererMaxMemory replaces the warm renderer after a chunk that
	// leaves it holding more (resident bytes); 0 for no bound.
	WarmRendererMaxMemory int64

	errs error // problems found by ConfigFromEnv, reported by Validate
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		WorkspaceRoot: "/tmp",
		OutputLimit:   1 << 20,
		TimeoutMargin: 2 * time.Second,
		SpecMaxBytes:  10 << 20,
		SpecTimeout:   30 * time.Second,
		BodyLimit:     1 << 20,
		BodyTimeout:   15 * time.Second,
		ShutdownGrace: 8 * time.Second,
		Passthrough:   true,

		AssetsMaxBytes:    10 << 30, // Lambda's largest /tmp
		AssetsConcurrency: 8,
		AssetsTimeout:     10 * time.Minute,
		AssetsCacheBytes:  -1,

		UploadStallTimeout: time.Minute,
		AssetsStallTimeout: 30 * time.Second,
		ChunkIdleTimeout:   DefaultChunkIdleTimeout,

		WarmRenderer:          true,
		WarmRendererMaxMemory: 1 << 30,
	}
}

const (
	bytesWanted    = "a number of bytes"
	durationWanted = "a duration such as 1500ms or 2s"
)

// ConfigFromEnv returns [DefaultConfig] overridden by the HELIOS_*
// environment variables. Durations use Go syntax ("1500ms", "2s") and sizes
// are bytes. A malformed value keeps its default and is reported by
// [Config.Validate], which the platform entry points call at startup.
func ConfigFromEnv() Config {
	c := DefaultConfig()
	var errs []error
	if v := os.Getenv(EnvWorkspaceRoot); v != "" {
		c.WorkspaceRoot = v
	}
	c.OutputURL = os.Getenv(EnvOutputURL)
	c.AssetsCacheDir = os.Getenv(EnvAssetsCacheDir)
	c.WarmRendererScript = os.Getenv(EnvWarmRendererScript)
	if v := os.Getenv(EnvAllowedJobPaths); v != "" {
		if c.AllowedJobPaths = splitAllowedJobPaths(v); c.AllowedJobPaths == nil {
			errs = append(errs, fmt.Errorf("%s=%q: want comma-separated locations such as s3://bucket/prefix/", EnvAllowedJobPaths, v))
		}
	}
	errs = append(errs,
		envValue(EnvOutputLimit, &c.OutputLimit, strconv.Atoi, bytesWanted),
		envValue(EnvChunkTimeout, &c.ChunkTimeout, time.ParseDuration, durationWanted),
		envValue(EnvTimeoutMargin, &c.TimeoutMargin, time.ParseDuration, durationWanted),
		envValue(EnvSpecMaxBytes, &c.SpecMaxBytes, parseInt64, bytesWanted),
		envValue(EnvSpecTimeout, &c.SpecTimeout, time.ParseDuration, durationWanted),
		envValue(EnvBodyLimit, &c.BodyLimit, parseInt64, bytesWanted),
		envValue(EnvBodyTimeout, &c.BodyTimeout, time.ParseDuration, durationWanted),
		envValue(EnvShutdownGrace, &c.ShutdownGrace, time.ParseDuration, durationWanted),
		envValue(EnvPassthrough, &c.Passthrough, strconv.ParseBool, "true or false"),
		envValue(EnvAssetsMaxBytes, &c.AssetsMaxBytes, parseInt64, bytesWanted),
		envValue(EnvAssetsConcurrency, &c.AssetsConcurrency, strconv.Atoi, "a number of transfers"),
		envValue(EnvAssetsTimeout, &c.AssetsTimeout, time.ParseDuration, durationWanted),
		envValue(EnvAssetsCacheBytes, &c.AssetsCacheBytes, parseInt64, bytesWanted),
		envValue(EnvOutputMaxBytes, &c.OutputMaxBytes, parseInt64, bytesWanted),
		envValue(EnvUploadStallTimeout, &c.UploadStallTimeout, time.ParseDuration, durationWanted),
		envValue(EnvAssetsStallTimeout, &c.AssetsStallTimeout, time.ParseDuration, durationWanted),
		envValue(EnvChunkIdleTimeout, &c.ChunkIdleTimeout, time.ParseDuration, durationWanted),
		envValue(EnvWarmRenderer, &c.WarmRenderer, parseOnOff, "on or off"),
		envValue(EnvWarmRendererMaxMemory, &c.WarmRendererMaxMemory, parseInt64, bytesWanted),
	)
	c.errs = errors.Join(errs...)
	return c
}

// Validate reports malformed environment values and settings out of range.
func (c Config) Validate() error {
	errs := []error{c.errs}
	check := func(bad bool, name string, value any, want string) {
		if bad {
			errs = append(errs, fmt.Errorf("%s=%v: want %s", name, value, want))
		}
	}
	check(c.WorkspaceRoot == "", EnvWorkspaceRoot, `""`, "a directory")
	check(c.OutputLimit <= 0, EnvOutputLimit, c.OutputLimit, "a positive number of bytes")
	check(c.SpecMaxBytes <= 0, EnvSpecMaxBytes, c.SpecMaxBytes, "a positive number of bytes")
	check(c.BodyLimit <= 0, EnvBodyLimit, c.BodyLimit, "a positive number of bytes")
	check(c.ChunkTimeout < 0, EnvChunkTimeout, c.ChunkTimeout, "0 (none) or a positive duration")
	check(c.ChunkIdleTimeout < 0, EnvChunkIdleTimeout, c.ChunkIdleTimeout, "0 (off) or a positive duration")
	check(c.TimeoutMargin < 0, EnvTimeoutMargin, c.TimeoutMargin, "a duration of 0 or more")
	check(c.SpecTimeout <= 0, EnvSpecTimeout, c.SpecTimeout, "a positive duration")
	check(c.BodyTimeout <= 0, EnvBodyTimeout, c.BodyTimeout, "a positive duration")
	check(c.ShutdownGrace < 0 || c.ShutdownGrace >= 10*time.Second, EnvShutdownGrace, c.ShutdownGrace,
		"a duration under Cloud Run's 10s between SIGTERM and SIGKILL")
	check(c.AssetsMaxBytes <= 0, EnvAssetsMaxBytes, c.AssetsMaxBytes, "a positive number of bytes")
	check(c.AssetsConcurrency <= 0 || c.AssetsConcurrency > 256, EnvAssetsConcurrency, c.AssetsConcurrency, "1 to 256 transfers")
	check(c.AssetsTimeout <= 0, EnvAssetsTimeout, c.AssetsTimeout, "a positive duration")
	check(c.AssetsStallTimeout <= 0, EnvAssetsStallTimeout, c.AssetsStallTimeout, "a positive duration")
	check(c.UploadStallTimeout <= 0, EnvUploadStallTimeout, c.UploadStallTimeout, "a positive duration")
	check(c.OutputMaxBytes < 0, EnvOutputMaxBytes, c.OutputMaxBytes, "0 (no bound) or a positive number of bytes")
	check(c.WarmRendererMaxMemory < 0, EnvWarmRendererMaxMemory, c.WarmRendererMaxMemory, "0 (no bound) or a positive number of bytes")
	check(c.AssetsCacheBytes < -1, EnvAssetsCacheBytes, c.AssetsCacheBytes, "0 (off) or a positive number of bytes")
	if err := checkOutputURL(c.OutputURL); err != nil {
		errs = append(errs, fmt.Errorf("%s=%q: %w", EnvOutputURL, c.OutputURL, err))
	}
	errs = append(errs, checkAllowedJobPaths(c.AllowedJobPaths))
	return errors.Join(errs...)
}

// envValue parses the variable name into dst when it is set; a malformed
// value leaves dst alone and is reported with what was wanted.
func envValue[T any](name string, dst *T, parse func(string) (T, error), want string) error {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	x, err := parse(v)
	if err != nil {
		return fmt.Errorf("%s=%q: want %s", name, v, want)
	}
	*dst = x
	return nil
}

func parseInt64(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

func parseOnOff(s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, errors.New("neither on nor off")
}
