// Package procfs reads processes from /proc on Linux, with plain system
// calls and reused buffers: a process's state, parent, group and session
// ([StatOf]), a process's or thread's children ([Children],
// [ThreadChildren]), and the processes whose environment holds an entry
// ([WithEntry]), which is the way to find what a chunk or a merge started
// after it left its process group or session, or outlived the process
// that started it. It is the one parser of /proc in the module. Outside
// Linux it finds nothing.
package procfs
