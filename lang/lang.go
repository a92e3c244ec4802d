// Package lang holds the panel's languages: the message catalogues (one
// JSON file per language in catalogue/, read by go-i18n with CLDR plural
// rules), the choice of a request's language (the account's setting, else
// the browser's Accept-Language) and the formatting of numbers, dates and
// durations for it. A request's language travels in its context: handlers
// and views call T, N and the formatters with that context and nothing else.
package lang

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalogue/*.json
var catalogueFS embed.FS

// Default is the language of a request that asks for none the panel has.
var Default = language.English

// supported are the panel's languages, the default first (the matcher
// falls back to the first).
var supported = []language.Tag{language.English, language.German}

// Lang is one language of the panel, ready to translate and format.
type Lang struct {
	tag language.Tag
	loc *i18n.Localizer
	// fixed holds the text of each message of the catalogues asked for
	// without values (headings, labels, layouts): a page asks for the
	// same ones hundreds of times, go-i18n works each out anew.
	fixed sync.Map
}

var (
	bundle  = mustBundle()
	langs   = map[string]*Lang{}
	matcher = language.NewMatcher(supported)
)

func init() {
	for _, t := range supported {
		langs[t.String()] = &Lang{tag: t, loc: i18n.NewLocalizer(bundle, t.String(), Default.String())}
	}
}

// mustBundle reads every catalogue; a catalogue that does not parse is a
// build mistake, caught by the package's tests.
func mustBundle() *i18n.Bundle {
	b := i18n.NewBundle(Default)
	files, err := fs.Glob(catalogueFS, "catalogue/*.json")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(catalogueFS, f); err != nil {
			panic(fmt.Sprintf("lang: catalogue %s: %v", path.Base(f), err))
		}
	}
	return b
}

// Codes are the codes of the panel's languages ("en", "de"), the default
// first: the choices of the account setting.
func Codes() []string {
	out := make([]string, len(supported))
	for i, t := range supported {
		out[i] = t.String()
	}
	return out
}

// Valid reports whether code is one of Codes, or "" (the browser's choice).
func Valid(code string) bool {
	_, ok := langs[code]
	return ok || code == ""
}

// Get returns the language with code, the default when there is none.
func Get(code string) *Lang {
	if l, ok := langs[code]; ok {
		return l
	}
	return langs[Default.String()]
}

// Choose picks a request's language: the account's setting when it names
// one of the panel's languages, else the best match of the browser's
// Accept-Language header, else the default.
func Choose(setting, acceptLanguage string) *Lang {
	if l, ok := langs[setting]; ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Get("")
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Get("")
	}
	return langs[supported[i].String()]
}

// Code is the language's code, for <html lang>.
func (l *Lang) Code() string { return l.tag.String() }

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Lang) context.Context { return context.WithValue(ctx, ctxKey{}, l) }

// From returns the language in ctx, the default when none was set.
func From(ctx context.Context) *Lang {
	if l, ok := ctx.Value(ctxKey{}).(*Lang); ok {
		return l
	}
	return Get("")
}

// T translates the message id into ctx's language; kv are the values of
// the message's fields, as pairs of name and value: T(ctx, "flash.banned",
// "IP", ip). A message missing from every catalogue shows its id (the
// catalogue test keeps that from happening).
func T(ctx context.Context, id string, kv ...any) string { return From(ctx).T(id, kv...) }

// N translates id in the plural form for n; the message reads n as
// {{.Count}}, formatted for the language.
func N(ctx context.Context, id string, n int, kv ...any) string { return From(ctx).N(id, n, kv...) }

// T translates the message id; see the package function T.
func (l *Lang) T(id string, kv ...any) string {
	if len(kv) > 0 {
		return l.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data(kv)})
	}
	if s, ok := l.fixed.Load(id); ok {
		return s.(string)
	}
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data(nil)})
	switch {
	case err == nil:
		l.fixed.Store(id, s) // kept: only ids of the catalogues, so fixed stays bounded
	case s == "":
		return id
	}
	return s
}

// N translates id in the plural form for n; see the package function N.
func (l *Lang) N(id string, n int, kv ...any) string {
	d := data(kv)
	d["Count"] = l.Int(int64(n))
	return l.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: n})
}

func (l *Lang) localize(cfg *i18n.LocalizeConfig) string {
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		return cfg.MessageID
	}
	return s
}

func data(kv []any) map[string]any {
	d := make(map[string]any, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		d[k] = kv[i+1]
	}
	return d
}

// Catalogue returns the catalogue of the language with code: every
// message id with the text of each of its plural forms ("other" for a
// message without plurals), from all of the language's files (code.json
// and area.code.json). The tests read it to keep the catalogues complete
// and to know the words of each language.
func Catalogue(code string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, file := range catalogueFiles(code) {
		for id, forms := range catalogueFile(file) {
			out[id] = forms
		}
	}
	return out
}

// catalogueFiles are the paths, in the embedded catalogue/ folder, of the
// files of the language with code.
func catalogueFiles(code string) []string {
	files, _ := fs.Glob(catalogueFS, "catalogue/*.json")
	var out []string
	for _, f := range files {
		if b := path.Base(f); b == code+".json" || strings.HasSuffix(b, "."+code+".json") {
			out = append(out, f)
		}
	}
	return out
}

// catalogueFile reads one catalogue file as Catalogue does.
func catalogueFile(file string) map[string]map[string]string {
	out := map[string]map[string]string{}
	raw, err := catalogueFS.ReadFile(file)
	if err != nil {
		return out
	}
	mf, err := i18n.ParseMessageFileBytes(raw, path.Base(file), nil)
	if err != nil {
		return out
	}
	for _, m := range mf.Messages {
		forms := map[string]string{}
		for form, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
			if strings.TrimSpace(s) != "" {
				forms[form] = s
			}
		}
		out[m.ID] = forms
	}
	return out
}
