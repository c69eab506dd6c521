// Package procenv finds processes by an entry of their environment, as
// /proc shows it on Linux: the way to find what a chunk or a merge
// started after it left its process group or session, or outlived the
// process that started it. Elsewhere it finds nothing.
package procenv
