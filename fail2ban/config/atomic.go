package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// BackupSuffix is appended to a file's name for the copy of its previous
// version that WriteAtomic keeps. fail2ban reads only *.conf and *.local,
// so the backup is never loaded.
const BackupSuffix = ".bak"

// ErrEditRunning is matched by Lock's error when another edit of the
// configuration held the lock until the wait ended; the error also matches
// the context's error (context.DeadlineExceeded, context.Canceled).
var ErrEditRunning = errors.New("config: another edit of the configuration is still running")

// Previous is what a file held before WriteAtomic replaced it, for Restore.
type Previous struct {
	Path    string
	Existed bool
	Data    []byte
	Mode    fs.FileMode

	backup     bool   // a backup was written
	bakExisted bool   // the backup file existed before
	bakData    []byte // and held this
	bakMode    fs.FileMode
}

// WriteAtomic replaces path with data so that readers see either the old
// or the new file, never a part: it writes a temporary file in the same
// folder (a hidden name fail2ban never reads), syncs it, gives it the mode
// and owner of the file it replaces, renames it over path and syncs the
// folder. When backup is set and the file existed, its previous content is
// first saved as path+BackupSuffix the same way. Missing folders are
// created. It returns the previous state for Restore.
func WriteAtomic(path string, data []byte, backup bool) (Previous, error) {
	prev := Previous{Path: path, Mode: 0o644}
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return prev, fmt.Errorf("config: %s is not a regular file", path)
		}
		if prev.Data, err = os.ReadFile(path); err != nil {
			return prev, fmt.Errorf("config: %w", err)
		}
		prev.Existed, prev.Mode = true, fi.Mode().Perm()
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return prev, fmt.Errorf("config: %w", err)
		}
	default:
		return prev, fmt.Errorf("config: %w", err)
	}
	if backup && prev.Existed {
		bak := path + BackupSuffix
		if bfi, err := os.Stat(bak); err == nil && bfi.Mode().IsRegular() {
			if prev.bakData, err = os.ReadFile(bak); err != nil {
				return prev, fmt.Errorf("config: %w", err)
			}
			prev.bakExisted, prev.bakMode = true, bfi.Mode().Perm()
		}
		prev.backup = true
		if err := replace(bak, prev.Data, prev.Mode, fi); err != nil {
			return prev, fmt.Errorf("config: backup: %w", err)
		}
	}
	if err := replace(path, data, prev.Mode, fi); err != nil {
		return prev, fmt.Errorf("config: %w", err)
	}
	return prev, nil
}

// Restore puts back what WriteAtomic replaced: the old content, or no file
// when there was none, and the backup file as it was.
func Restore(prev Previous) error {
	if prev.backup {
		bak := prev.Path + BackupSuffix
		if prev.bakExisted {
			fi, _ := os.Stat(bak)
			if err := replace(bak, prev.bakData, prev.bakMode, fi); err != nil {
				return fmt.Errorf("config: %w", err)
			}
		} else if err := os.Remove(bak); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("config: %w", err)
		}
	}
	if !prev.Existed {
		if err := os.Remove(prev.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("config: %w", err)
		}
		return syncDir(filepath.Dir(prev.Path))
	}
	fi, _ := os.Stat(prev.Path)
	if err := replace(prev.Path, prev.Data, prev.Mode, fi); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// replace writes data to a temporary file next to path and renames it over
// path. like, when not nil, is the file whose owner the new one takes.
func replace(path string, data []byte, mode fs.FileMode, like fs.FileInfo) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".bangui-*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if like != nil {
		if err := sameOwner(tmp, like); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
