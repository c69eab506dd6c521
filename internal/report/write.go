package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// fileMode is the report's mode: anyone may read it.
const fileMode = 0o644

// Write renders d into path atomically (temp file in the same folder,
// fsync, rename), so an interrupt never leaves half a report: path holds
// either its old content or the whole new page. The temporary file is
// named after path, with a dot before and a random suffix after, and is
// removed when anything fails.
func Write(path string, d Data) error {
	page, err := Render(d)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := writeSynced(tmp, page); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the report: %w", err)
	}
	syncDir(dir)
	return nil
}

// writeSynced writes data to f, gives it fileMode, syncs and closes it.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(fileMode)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename in dir durable, as far as the system allows; a
// folder that cannot be synced (some file systems refuse) is no error,
// since the report is whole either way.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
