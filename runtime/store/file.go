package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
)

// FileSource reads and writes local paths and file:// URLs: job specs,
// asset folders, and outputs (HELIOS_OUTPUT_URL=file:///srv/renders).
// Relative paths are relative to the worker's working directory. It is a
// [FolderSource] and a [Sink].
type FileSource struct{}

func (FileSource) path(location string) string {
	if Scheme(location) == "file" {
		return location[len("file://"):]
	}
	return location
}

// Open implements [Source].
func (s FileSource) Open(_ context.Context, location string) (io.ReadCloser, error) {
	f, _, err := fsutil.OpenRegular(os.OpenFile, s.path(location))
	return f, err
}

// List implements [FolderSource]: the regular files below the folder.
// Links, sockets and devices are not assets and are left out; a folder
// that is itself a link is followed.
func (s FileSource) List(ctx context.Context, location string) ([]Object, error) {
	root, err := filepath.EvalSymlinks(s.path(location)) // WalkDir does not follow a linked root
	if err != nil {
		return nil, notFound(err)
	}
	var objs []Object
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		objs = append(objs, Object{Path: filepath.ToSlash(rel), Size: info.Size()})
		return err
	})
	return objs, err
}

// Download implements [FolderSource].
func (s FileSource) Download(ctx context.Context, location string, dst io.WriterAt) (int64, error) {
	f, _, err := fsutil.OpenRegular(os.OpenFile, s.path(location))
	if err != nil {
		return 0, notFound(err)
	}
	defer f.Close()
	return io.Copy(io.NewOffsetWriter(dst, 0), fsutil.Reader(ctx, f))
}

// Put implements [Sink]: it writes a temporary file beside the target,
// syncs it, and renames it into place, so that a reader never sees a
// partial file. Missing folders are made.
func (s FileSource) Put(ctx context.Context, location string, src io.ReaderAt, size int64) (err error) {
	name := s.path(location)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := CreateTempBeside(name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, fsutil.Reader(ctx, io.NewSectionReader(src, 0, size)))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("wrote %d of %d bytes", n, size)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// Stat implements [Stater]: the size of a regular file.
func (s FileSource) Stat(_ context.Context, location string) (int64, error) {
	info, err := os.Stat(s.path(location))
	if err != nil {
		return 0, notFound(err)
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", location)
	}
	return info.Size(), nil
}

// notFound adds ErrNotFound to an error that says a file does not exist.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// CreateTempBeside creates a new file to be renamed to name once whole:
// ".NAME.helios-RANDOM.tmp" in name's folder, with the mode a new file
// gets under the process's umask (os.CreateTemp's is 0600, which the
// rename would keep).
func CreateTempBeside(name string) (*os.File, error) {
	for {
		tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".helios-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}
