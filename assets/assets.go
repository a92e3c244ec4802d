// Package assets embeds the panel's static files (CSS, JavaScript, images)
// and serves them under content-hash URLs so browsers may cache them forever.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed css js img flags
var files embed.FS

// FlagFile is the asset name of the flag of an ISO 3166-1 alpha-2 code
// (either case), for Set.Path, and whether the panel has that flag.
func FlagFile(code string) (string, bool) {
	if len(code) != 2 {
		return "", false
	}
	name := "flags/" + strings.ToLower(code) + ".svg"
	if _, err := fs.Stat(files, name); err != nil {
		return "", false
	}
	return name, true
}

// Set is the embedded files with their content hashes, computed once.
type Set struct {
	fsys   fs.FS
	hashes map[string]string // file name → first 12 hex digits of its SHA-256
}

// New hashes every embedded file.
func New() (*Set, error) {
	s := &Set{fsys: files, hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.hashes[p] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return s, err
}

// Path returns the URL path of an asset relative to the assets mount,
// for example "3fa2c1d0e9b7/css/app.css". An unknown name yields "missing/"+name,
// which the handler answers with 404.
func (s *Set) Path(name string) string {
	h, ok := s.hashes[name]
	if !ok {
		return "missing/" + name
	}
	return h + "/" + name
}

// ServeHTTP serves "<hash>/<name>". A current hash gets a year-long immutable
// cache header; a stale hash is still served but not cached, so a page
// rendered just before an upgrade keeps working.
func (s *Set) ServeHTTP(w http.ResponseWriter, r *http.Request, rel string) {
	hash, name, ok := strings.Cut(strings.TrimPrefix(rel, "/"), "/")
	current, known := s.hashes[name]
	if !ok || !known || name != path.Clean(name) {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if hash == current {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+current+`"`)
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if r.Header.Get("If-None-Match") == `"`+current+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}
