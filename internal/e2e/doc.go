// Package e2e holds the end-to-end tests of the module as its users meet
// it, run from the module root: the README's first command, the examples
// under examples/ (regenerated, built, and run under the Lambda Runtime
// Interface Emulator and on $PORT), go generate in a scaffolded project,
// and the links between README.md and the pages under docs/. It has no
// code of its own.
package e2e
