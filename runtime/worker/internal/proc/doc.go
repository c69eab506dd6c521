// Package proc runs a chunk's command and makes sure that nothing it
// started outlives it ([Run]).
//
// The command starts in a session and process group of its own, with
// standard input on /dev/null, its output copied to the caller's writers
// through pipes, and PR_SET_PDEATHSIG set so that it dies with the worker
// (Linux). Under a memory limit the kernel should kill a chunk, not the
// worker: the leader is forked with oom_score_adj 1000 (oom_linux.go).
//
// When the context is done the whole group is killed, and again when
// the leader exits. What left the group is found below the worker: on
// its first chunk the process makes itself a child subreaper
// (PR_SET_CHILD_SUBREAPER), so that everything a chunk starts, whatever
// group or session it moves to, stays below the worker when its parent
// dies. That is a property of the whole process: a program that embeds
// the worker becomes the parent of the orphans of its own children too
// (strays_linux.go says which of them it reaps, and which it leaves to
// their owners). After each chunk, the processes that carry the chunk's
// mark (Spec.Mark, its workspace) in their environment are killed, and
// once no chunk runs, everything left outside the worker's session
// (settle_linux.go). The answer waits, within bounds, until they are
// gone, zombies included.
//
// Outside Linux only the process group is killed.
package proc
