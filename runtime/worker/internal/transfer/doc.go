// Package transfer moves a chunk's files between its workspace and the
// stores: the asset folder in ([Fetch]), the output out ([Upload]).
//
// An asset folder is listed, every path and the total size checked
// (nothing may land outside the workspace, HELIOS_ASSETS_MAX_BYTES bounds
// the total, encoded files decoded), then fetched a few files at a time,
// each into a temporary file renamed into place once whole; a download
// that receives nothing for HELIOS_ASSETS_STALL_TIMEOUT is cut and tried
// again.
//
// A warm worker keeps what it downloaded in a [Cache] below the workspace
// root (helios-cache), keyed by location, version and size, and links the
// files into the next chunks' workspaces: hard links, watched with
// inotify so that a chunk that writes to one loses it (copies where links
// cannot be watched). While the listing is on its way, the files of the
// folder's previous listing are placed ahead; while a chunk runs, a spare
// copy of its folder is made for the next one. A [Placement] records what
// a chunk holds of the cache, which [Cache.Release] gives back once its
// workspace is gone.
//
// An output is put through the location's store.Sink from a file opened
// inside the workspace (no link may lead out of it), hashed with SHA-256
// as it is read, and cut when nothing moves for HELIOS_UPLOAD_STALL_TIMEOUT.
package transfer
