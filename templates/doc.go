// Package templates holds the text/template files that helios-scaffold
// renders into a user's repository, one folder per target, and the manifest
// that says which file each template becomes, who owns it and when it is
// written.
//
// Templates are executed with [github.com/Masterminds/sprig/v3]'s functions
// and with the generator's view of the inputs as data; they never read the
// clock, the environment or the disk, so identical inputs give identical
// bytes.
package templates
