// Package warm runs Helios chunks in the warm renderer: a Node process,
// started on first use and kept between chunks on a warm instance, that
// renders a `helios render` command through the Helios renderer's public
// API (RenderOrchestrator) as the CLI would, without starting Node and
// loading the CLI's modules for every chunk.
//
// [Command] says whether a chunk's command is one the renderer takes: a
// `helios render INPUT` with only the flags `helios render --emit-job`
// writes, each once. A [Renderer] is one renderer process for one Helios
// CLI install (its node, its script, the CLI's package folder); its
// Render hands it a [Chunk] (workspace, arguments, the chunk's whole
// environment, where its output goes, the mark its processes carry) and
// returns the exit code the CLI would have given.
//
// The protocol, between the worker and the script that the templates
// write (.helios/warm-renderer.mjs): one JSON request per line on the
// renderer's fd 3 ({"cwd", "args", "env"}), JSON messages per line on its
// fd 4: {"ready", "cli", "renderer"} once loaded, {"stream", "data"} for
// what it prints (base64), {"exit"} when a chunk ends.
//
// What goes wrong is contained:
//   - A version of the CLI or of the renderer that is not in [Tested]
//     keeps the renderer off ([ErrUnavailable]); so does a chunk while
//     another renders, and a renderer that cannot start.
//   - A renderer that dies during a chunk is [ErrCrashed]; the caller runs
//     that chunk as a process.
//   - When the chunk's context ends, the renderer is killed with its
//     process group.
//   - After every chunk, what carries the chunk's mark, and the renderer's
//     own children, are killed; a renderer whose resident memory passed
//     Renderer.MaxRSS is replaced.
//
// The renderer runs in the worker's session, in a process group of its
// own, with the chunks' oom_score_adj, and dies with the worker
// (runtime/worker/internal/proc.StartResident).
package warm
