// Package workspace makes and removes the folders that chunks run in.
//
// A chunk's workspace is a folder below the workspace root
// (HELIOS_WORKSPACE_ROOT) named helios-JOB-CHUNK-RANDOM, so that an
// operator can tell whose it is, with work/ (the command's working
// directory) and tmp/ (its TMPDIR) inside ([New]). It is made under a
// dotted name, locked with flock, and renamed: a workspace under its own
// name is locked for as long as its chunk lives, whichever worker process
// runs it. A worker killed before it could remove its workspaces (a
// Lambda hard timeout, an instance killed for memory) leaves them
// unlocked, and the next worker on the root removes them before its first
// chunk ([RemoveStale]); nothing else below the root is touched.
package workspace
