package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"bangui/lang"
)

// Source says where a value was set.
type Source struct {
	File string // relative to the configuration directory, slash-separated; absolute when outside it
	Line int    // 1-based line of the option name
}

// String returns "file:line".
func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Value is one merged option.
type Value struct {
	Name      string   // lower-cased option name
	Raw       string   // the value as written, not interpolated
	Source    Source   // the file and line that set it last
	Overrides []Source // earlier settings it replaced, oldest first
}

// Options tune Load.
type Options struct {
	// Overlay replaces files on disk, by path relative to the directory
	// (slash-separated): the content is used instead of the file, and a nil
	// content means the file does not exist. Use it to check a change
	// before writing it.
	Overlay map[string][]byte
	// Defaults are added to [DEFAULT] after reading, replacing values of
	// the same name, as fail2ban does with fail2ban_version and
	// fail2ban_confpath before it reads jails.
	Defaults map[string]string
}

// Set is the merged configuration of one stack of files.
type Set struct {
	Dir      string   // the configuration directory
	Name     string   // the stack: "jail", "fail2ban", "filter.d/sshd", ...
	Files    []string // files merged, in order, relative to Dir (a file may appear twice)
	Problems []error  // files that could not be read (*ParseError or I/O errors); they are left out

	defaults *msection
	sections map[string]*msection
	order    []string // section names in order of first appearance
}

type msection struct {
	name   string
	source Source // where the section was first opened
	opts   map[string]*Value
	order  []string
}

func newSection(name string, src Source) *msection {
	return &msection{name: name, source: src, opts: map[string]*Value{}}
}

func (m *msection) set(v *Value) {
	if old, ok := m.opts[v.Name]; ok {
		nv := *v
		nv.Overrides = append(slices.Clip(old.Overrides), old.Source)
		m.opts[v.Name] = &nv
		return
	}
	m.opts[v.Name] = v
	m.order = append(m.order, v.Name)
}

// knownPrefix names the sections that keep values replaced by later files,
// for %(known/option)s.
const knownPrefix = "KNOWN/"

// includesSection is the section that names files to read before and
// after a file.
const includesSection = "INCLUDES"

// conditionalRE matches conditional sections such as
// [Definition?family=inet6], whose options are renamed "name?family=inet6".
var conditionalRE = regexp.MustCompile(`^(\w+)(\?.+)$`)

// Load reads the stack name below dir as fail2ban does: NAME.conf,
// NAME.d/*.conf, NAME.local, NAME.d/*.local (each folder sorted), every
// file preceded by its [INCLUDES] before files and followed by its .local
// counterpart and its after files. Files that do not exist are skipped;
// files that cannot be read or parsed are reported in Problems and skipped.
// The error is only for a missing directory.
func Load(dir, name string, opts Options) (*Set, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	l := &loader{dir: abs, opts: opts, cache: map[string]*File{}, failed: map[string]bool{}}
	if len(l.opts.Overlay) == 0 {
		if fi, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		} else if !fi.IsDir() {
			return nil, lang.M("cfg.dir_not_dir", "Dir", abs)
		}
	}
	set := &Set{Dir: abs, Name: name, defaults: newSection(DefaultSection, Source{}), sections: map[string]*msection{}}
	base := filepath.Join(abs, filepath.FromSlash(name))
	var files []string
	if l.exists(base + ".conf") {
		files = append(files, base+".conf")
	}
	files = append(files, l.glob(base+".d", ".conf")...)
	if l.exists(base + ".local") {
		files = append(files, base+".local")
	}
	files = append(files, l.glob(base+".d", ".local")...)

	for _, path := range l.includes(files, nil) {
		f := l.parse(path)
		if f == nil {
			continue
		}
		rel := l.rel(path)
		set.Files = append(set.Files, rel)
		set.merge(f, rel)
	}
	for k, v := range opts.Defaults {
		set.defaults.set(&Value{Name: strings.ToLower(k), Raw: v, Source: Source{File: "(built in)"}})
	}
	set.Problems = l.problems
	return set, nil
}

// merge adds one file's sections, later values replacing earlier ones; the
// replaced values of a section are kept in KNOWN/<section>.
func (s *Set) merge(f *File, rel string) {
	for _, sec := range f.Sections {
		if sec.Name == DefaultSection {
			for _, o := range sec.Options {
				s.defaults.set(&Value{Name: o.Name, Raw: o.Value, Source: Source{rel, o.Line}})
			}
			continue
		}
		name, cond := sec.Name, ""
		if m := conditionalRE.FindStringSubmatch(name); m != nil {
			name, cond = m[1], m[2]
		}
		cur := s.sections[name]
		if cur == nil {
			cur = newSection(name, Source{rel, sec.Line})
			s.sections[name] = cur
			s.order = append(s.order, name)
		} else {
			// Keep the values about to be replaced for %(known/...)s.
			known := s.section(knownPrefix+name, Source{rel, sec.Line})
			for _, o := range sec.Options {
				if old, ok := cur.opts[o.Name+cond]; ok {
					cp := *old
					known.set(&cp)
				}
			}
		}
		for _, o := range sec.Options {
			cur.set(&Value{Name: o.Name + cond, Raw: o.Value, Source: Source{rel, o.Line}})
		}
	}
}

// section returns the named merged section, creating it when missing.
func (s *Set) section(name string, src Source) *msection {
	m := s.sections[name]
	if m == nil {
		m = newSection(name, src)
		s.sections[name] = m
		s.order = append(s.order, name)
	}
	return m
}

// Sections lists the section names in order of first appearance, without
// DEFAULT and the internal KNOWN/ sections.
func (s *Set) Sections() []string {
	out := make([]string, 0, len(s.order))
	for _, n := range s.order {
		if !strings.HasPrefix(n, knownPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// HasSection reports whether the merged files define the section.
func (s *Set) HasSection(name string) bool {
	if name == DefaultSection {
		return true
	}
	_, ok := s.sections[name]
	return ok && !strings.HasPrefix(name, knownPrefix)
}

// SectionSource returns where a section was first opened.
func (s *Set) SectionSource(name string) Source {
	if m := s.sections[name]; m != nil {
		return m.source
	}
	return Source{}
}

// Own lists the options set in the section itself (not inherited from
// DEFAULT), in order of first appearance. For DEFAULT it lists DEFAULT's.
func (s *Set) Own(section string) []Value {
	m := s.defaults
	if section != DefaultSection {
		if m = s.sections[section]; m == nil {
			return nil
		}
	}
	out := make([]Value, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, *m.opts[n])
	}
	return out
}

// Lookup returns the raw value of an option in a section, falling back to
// DEFAULT as fail2ban does; inherited reports that fallback.
func (s *Set) Lookup(section, option string) (v Value, inherited, ok bool) {
	option = strings.ToLower(option)
	if section != DefaultSection {
		if m := s.sections[section]; m != nil {
			if p, found := m.opts[option]; found {
				return *p, false, true
			}
		}
	}
	if p, found := s.defaults.opts[option]; found {
		return *p, section != DefaultSection, true
	}
	return Value{}, false, false
}

// loader reads and caches files for one Load.
type loader struct {
	dir      string
	opts     Options
	cache    map[string]*File
	failed   map[string]bool
	problems []error
}

func (l *loader) rel(abs string) string {
	r, err := filepath.Rel(l.dir, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return abs
	}
	return filepath.ToSlash(r)
}

func (l *loader) overlay(abs string) (data []byte, present, inOverlay bool) {
	if l.opts.Overlay == nil {
		return nil, false, false
	}
	r := l.rel(abs)
	d, ok := l.opts.Overlay[r]
	if !ok {
		return nil, false, false
	}
	return d, d != nil, true
}

// exists is os.path.exists: anything that is there, following links.
func (l *loader) exists(abs string) bool {
	if _, present, in := l.overlay(abs); in {
		return present
	}
	_, err := os.Stat(abs)
	return err == nil
}

// glob lists dir/*suffix as Python's glob does (no hidden names), sorted,
// keeping only names that exist.
func (l *loader) glob(dir, suffix string) []string {
	var names []string
	entries, err := os.ReadDir(dir)
	if err == nil {
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	for rel, d := range l.opts.Overlay {
		abs := filepath.Join(l.dir, filepath.FromSlash(rel))
		if filepath.Dir(abs) == dir && d != nil {
			names = append(names, filepath.Base(abs))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, suffix) {
			continue
		}
		p := filepath.Join(dir, n)
		if l.exists(p) {
			out = append(out, p)
		}
	}
	return out
}

// parse returns the parsed file, or nil when it cannot be read (recorded
// once as a problem).
func (l *loader) parse(abs string) *File {
	if f, ok := l.cache[abs]; ok {
		return f
	}
	if l.failed[abs] {
		return nil
	}
	data, present, in := l.overlay(abs)
	var err error
	switch {
	case in && !present:
		err = fs.ErrNotExist
	case !in:
		data, err = readConfigFile(abs)
	}
	var f *File
	if err == nil {
		f, err = Parse(l.rel(abs), data)
	}
	if err != nil {
		l.failed[abs] = true
		if !errors.Is(err, fs.ErrNotExist) {
			var pe *ParseError
			if !errors.As(err, &pe) {
				err = lang.M("cfg.file_problem", "File", l.rel(abs), "Problem", err)
			}
			l.problems = append(l.problems, err)
		}
		return nil
	}
	l.cache[abs] = f
	return f
}

// maxFileSize bounds what the reader loads from one file.
const maxFileSize = 4 << 20

func readConfigFile(abs string) ([]byte, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, lang.M("cfg.file_is_dir")
	}
	if fi.Size() > maxFileSize {
		return nil, lang.M("cfg.file_too_large", "MB", maxFileSize>>20)
	}
	b := make([]byte, fi.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && n != len(b) {
		return nil, err
	}
	return b[:n], nil
}

// includes expands files with their .local counterparts and [INCLUDES],
// as fail2ban's _getIncludes: before files, the file, after files.
// ancestors are the files including this list, to break loops.
func (l *loader) includes(files []string, ancestors []string) []string {
	var expanded []string
	for _, f := range files {
		expanded = append(expanded, f)
		local := strings.TrimSuffix(f, filepath.Ext(f)) + ".local"
		if !slices.Contains(files, local) && l.isFile(local) {
			expanded = append(expanded, local)
		}
	}
	var out []string
	for _, f := range expanded {
		out = append(out, l.includesOf(f, ancestors)...)
	}
	return out
}

// isFile is os.path.isfile.
func (l *loader) isFile(abs string) bool {
	if _, present, in := l.overlay(abs); in {
		return present
	}
	fi, err := os.Stat(abs)
	return err == nil && fi.Mode().IsRegular()
}

func (l *loader) includesOf(path string, ancestors []string) []string {
	if slices.Contains(ancestors, path) {
		// A file that includes itself through its .local counterpart
		// (jail.local: after = jail.x pulls in jail.x and jail.local again):
		// fail2ban recurses until Python gives up; we stop here.
		l.problems = append(l.problems, lang.M("cfg.includes_loop", "File", l.rel(path)))
		return nil
	}
	f := l.parse(path)
	if f == nil {
		return nil
	}
	var before, after []string
	if sec := f.Section(includesSection); sec != nil {
		single := &Set{Dir: l.dir, defaults: newSection(DefaultSection, Source{}), sections: map[string]*msection{}}
		single.merge(f, l.rel(path))
		for _, which := range []string{"before", "after"} {
			if _, _, ok := single.Lookup(includesSection, which); !ok {
				continue
			}
			v, err := single.Get(includesSection, which)
			if err != nil {
				l.problems = append(l.problems, lang.M("cfg.includes_problem", "File", l.rel(path), "Option", which, "Problem", err))
				continue
			}
			var list []string
			for _, entry := range strings.Split(v, "\n") {
				if entry == "" {
					continue
				}
				r := entry
				if !filepath.IsAbs(entry) {
					r = filepath.Join(filepath.Dir(path), entry)
				}
				if slices.Contains(ancestors, r) {
					continue
				}
				list = append(list, l.includes([]string{r}, append(slices.Clip(ancestors), path))...)
			}
			if which == "before" {
				before = list
			} else {
				after = list
			}
		}
	}
	out := append(before, path)
	return append(out, after...)
}

// Names lists the names of the filters or actions in dir/sub ("filter.d",
// "action.d"): every X with an X.conf or X.local, sorted.
func Names(dir, sub string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, sub))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return nil, nil // a directory without that folder has none
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || e.IsDir() {
			continue
		}
		for _, ext := range []string{".conf", ".local"} {
			if base, ok := strings.CutSuffix(n, ext); ok && base != "" {
				out = append(out, base)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
