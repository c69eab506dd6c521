// Package tail bounds what the worker keeps of a chunk's output: a
// [Buffer] keeps the last bytes of a stream, cut at a character, for the
// answer's stdout and stderr; [Lines] passes the stream through to the
// worker's logs a whole line at a time, so that concurrent chunks and the
// worker's own log lines never split one another.
package tail
