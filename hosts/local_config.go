package hosts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	f2bconf "bangui/fail2ban/config"
	"bangui/lang"
)

// itemFolders are the folders ConfigItems lists.
var itemFolders = []string{"filter.d", "action.d"}

// ConfigDir is the configuration directory ("" before setup chose one).
func (l *Local) ConfigDir() string { return l.opts.ConfigDir }

// LoadConfig reads one stack of the configuration directory with
// fail2ban's merge rules; fail2ban_confpath is the directory, as fail2ban
// sets it.
func (l *Local) LoadConfig(_ context.Context, stack string, overlay map[string][]byte) (*f2bconf.Set, error) {
	dir := l.opts.ConfigDir
	return f2bconf.Load(dir, stack, f2bconf.Options{
		Overlay:  overlay,
		Defaults: map[string]string{"fail2ban_confpath": dir},
	})
}

// ConfigItems lists the filters or actions of folder ("filter.d" or
// "action.d") with their .conf and .local files.
func (l *Local) ConfigItems(_ context.Context, folder string) ([]ConfigItem, error) {
	if !slices.Contains(itemFolders, folder) {
		return nil, lang.M("fleet.config.not_item_folder", "Folder", strconv.Quote(folder))
	}
	dir := l.opts.ConfigDir
	names, err := f2bconf.Names(dir, folder)
	if err != nil {
		return nil, err
	}
	out := make([]ConfigItem, 0, len(names))
	for _, n := range names {
		it := ConfigItem{Name: n}
		for _, ext := range []string{".conf", ".local"} {
			if fileExists(filepath.Join(dir, folder, n+ext)) {
				it.Files = append(it.Files, folder+"/"+n+ext)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// EditableFiles lists the editable files that exist, with their size and
// whether a backup exists.
func (l *Local) EditableFiles(_ context.Context) ([]ConfigFile, error) {
	dir := l.opts.ConfigDir
	names, err := f2bconf.LocalFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make([]ConfigFile, 0, len(names))
	for _, n := range names {
		f := ConfigFile{Name: n, Exists: true}
		if p, err := f2bconf.ResolveEditable(dir, n); err == nil {
			if fi, err := os.Stat(p); err == nil {
				f.Size = fi.Size()
			}
			f.Backup = fileExists(p + f2bconf.BackupSuffix)
		}
		out = append(out, f)
	}
	return out, nil
}

// ReadConfigFile reads an editable file, resolved and confined by
// f2bconf.ResolveEditable.
func (l *Local) ReadConfigFile(_ context.Context, name string) (ConfigFile, error) {
	f := ConfigFile{Name: name}
	p, err := f2bconf.ResolveEditable(l.opts.ConfigDir, name)
	if err != nil {
		return f, err
	}
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return f, lang.Wrap(lang.M("fleet.config.unreadable", "Name", name, "Cause", err), err)
	}
	f.Exists, f.Size, f.Data = true, int64(len(b)), b
	f.Backup = fileExists(p + f2bconf.BackupSuffix)
	return f, nil
}

// WriteConfigFile replaces an editable file with f2bconf.WriteAtomic,
// keeping a backup.
func (l *Local) WriteConfigFile(_ context.Context, name string, data []byte) (Replaced, error) {
	p, err := f2bconf.ResolveEditable(l.opts.ConfigDir, name)
	if err != nil {
		return Replaced{}, err
	}
	prev, err := f2bconf.WriteAtomic(p, data, true)
	if err != nil {
		return Replaced{}, err
	}
	return Replaced{Existed: prev.Existed, Restore: func(context.Context) error { return f2bconf.Restore(prev) }}, nil
}

// CreateConfigFile writes an editable file that does not exist yet; a file
// that is there (maybe the admin's, maybe a link) is never overwritten.
func (l *Local) CreateConfigFile(_ context.Context, name string, data []byte) (bool, error) {
	if _, err := f2bconf.CleanEditable(name); err != nil {
		return false, err
	}
	if l.opts.ConfigDir == "" {
		return false, lang.M("fleet.config.no_dir")
	}
	return writeFileIfAbsent(filepath.Join(l.opts.ConfigDir, filepath.FromSlash(name)), data)
}

// LockConfig takes the configuration directory's edit lock (f2bconf.Lock).
func (l *Local) LockConfig(ctx context.Context) (func(), error) {
	return f2bconf.Lock(ctx, l.opts.ConfigDir)
}

// writeFileIfAbsent writes data to path only if path does not exist yet, so a
// file that is there (maybe the admin's) is never overwritten. The content
// appears at once: it is written to a temporary file that is then linked
// into place, which fails if path exists. It reports whether it wrote.
func writeFileIfAbsent(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	// fail2ban reads only *.conf and *.local, so it never sees the temporary file.
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
