// Package fsutil holds the small file operations that the worker, the
// stores and the fan-out share: opening a file that must be a regular
// one without waiting on a FIFO ([OpenRegular]), copying a file into a
// new one ([CopyFile]), and a reader that stops once its context is done
// ([Reader]).
package fsutil
