package handlers

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"bangui/lang"
	"bangui/models"
)

// englishWords are common English words of a panel's sentences and
// buttons; with the words of the English catalogue (less those of the
// German one, and less germanWords) they are what a German page must not
// show. Data on a page (jail and host names, addresses, log lines) is
// rarely one of them.
var englishWords = strings.Fields(`the and or of to for with from by at is are was were be been not no yes this that
these those your you it its has have had can will would should when which what where who how why than then there
here into only also any all none some each every more most less new old last first next previous page rows of
save delete cancel add remove edit close back search filter apply reset show hide create update change enable
disable enabled disabled sign log out name password user users role settings account time date banned unban ban
bans address addresses country countries history alerts rule rules hosts host token tokens jails running stopped
stop start reload test run import imported list lists source sources file files choose default unknown error
failed failures failure matched missed ignored since until left ago day days hour hours minute minutes second seconds
open view download upload copy sent send recent latest total now today online offline off on`)

// germanWords are German words that English also spells; they never count
// as English.
var germanWords = strings.Fields(`in so man was die hat`)

// wordRE finds the words of a text: letters only, two or more.
var wordRE = regexp.MustCompile(`\p{L}{2,}`)

// englishOnly returns the words that mark a text as English in German: the
// words of the English catalogue and englishWords, less every word of the
// German catalogue and germanWords; all lower-case.
func englishOnly() map[string]bool {
	words := func(code string) map[string]bool {
		out := map[string]bool{}
		for _, forms := range lang.Catalogue(code) {
			for _, s := range forms {
				s = regexp.MustCompile(`\{\{[^}]*\}\}`).ReplaceAllString(s, " ")
				for _, w := range wordRE.FindAllString(s, -1) {
					out[strings.ToLower(w)] = true
				}
			}
		}
		return out
	}
	en, de := words("en"), words("de")
	for _, w := range englishWords {
		en[w] = true
	}
	for _, w := range germanWords {
		de[w] = true
	}
	for w := range de {
		delete(en, w)
	}
	return en
}

// untranslated returns the texts of doc, visible or read out (text, title,
// aria-label, placeholder, alt, a button's value, an htmx confirmation),
// that hold an English word: code, preformatted text, scripts, form values
// (data the user typed or the panel read) and records marked
// translate="no" (the audit log's stored details) are left out.
func untranslated(doc *goquery.Document, english map[string]bool) []string {
	var found []string
	check := func(where, text string) {
		for _, token := range strings.Fields(text) {
			if isName(token) {
				continue
			}
			for _, w := range wordRE.FindAllString(token, -1) {
				if english[strings.ToLower(w)] && !isCode(w) {
					found = append(found, where+": "+strings.Join(strings.Fields(text), " "))
					return
				}
			}
		}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "code", "pre", "kbd", "samp", "textarea", "option":
				return
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "title", "aria-label", "placeholder", "alt", "hx-confirm":
					check(n.Data+"@"+a.Key, a.Val)
				case "value":
					if n.Data == "input" && (attr(n, "type") == "submit" || attr(n, "type") == "button") {
						check(n.Data+"@value", a.Val)
					}
				}
			}
			if attr(n, "translate") == "no" {
				return
			}
		}
		if n.Type == html.TextNode {
			check("text", n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range doc.Nodes {
		walk(n)
	}
	return found
}

// isCode reports whether w is written as code or a name (mixed case inside
// the word, as in "BanGUI", "fail2ban"): those stay as they are.
func isCode(w string) bool {
	for _, r := range w[1:] {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// isName reports whether a token of a text is a name, a path or code
// rather than a word ("web-off", "blocklist_de", "action.d/x.local",
// "[lt_file]"): such tokens are the data of fail2ban's configuration and
// stay as they are in every language.
func isName(token string) bool {
	inner := strings.Trim(token, `.,;:!?()"“”„'`)
	return strings.ContainsAny(inner, "-_./[]=@<>\\%$0123456789")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// pendingGerman are the pages (paths, or prefixes ending in "/"; "/" is the dashboard alone) whose
// translation is not done yet: their English is logged, not failed. The
// list only shrinks: a page listed here that shows no English fails the
// test, so that it is taken off the list.
var pendingGerman = []string{}

func isPendingGerman(p string) (string, bool) {
	path, _, _ := strings.Cut(p, "?")
	for _, q := range pendingGerman {
		if path == q || len(q) > 1 && strings.HasSuffix(q, "/") && strings.HasPrefix(path, q) {
			return q, true
		}
	}
	return "", false
}

// germanConfigApp is configApp (a real fail2ban, its configuration) with the
// admin's second factor enrolled (so the factor pages are full) and the
// account's language set to German.
func germanConfigApp(t *testing.T) (*testApp, *browser) {
	t.Helper()
	a, b, _ := configApp(t)
	(&factorApp{testApp: a, clock: time.Now()}).enrolAdmin()
	admin, err := a.s.users.ByName(t.Context(), testAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.s.users.SetLanguage(t.Context(), admin.ID, "de"); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestGermanPagesShowNoEnglish walks every page in German, as the
// Enter-key walk does (the route table, then the links), with the account's
// language set to German while the browser asks for English (the setting
// wins), and the first-run, login and error pages with the browser asking
// for German; it fails on any page that shows English.
func TestGermanPagesShowNoEnglish(t *testing.T) {
	english := englishOnly()
	clean := map[string]bool{}
	report := func(p string, doc *goquery.Document) {
		if got := doc.Find("html").AttrOr("lang", ""); doc.Find("head title").Length() > 0 && got != "de" {
			t.Errorf("%s: <html lang=%q>, want de", p, got)
		}
		found := untranslated(doc, english)
		if q, pending := isPendingGerman(p); pending {
			if _, seen := clean[q]; !seen {
				clean[q] = true
			}
			if len(found) > 0 {
				clean[q] = false
				t.Logf("%s (pending translation): %d English texts, e.g. %q", p, len(found), found[0])
			}
			return
		}
		for _, f := range found {
			t.Errorf("%s: English in German: %s", p, f)
		}
	}
	german := map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}

	fresh := newTestApp(t, t.TempDir())
	fb := fresh.browser()
	fb.headers = german
	rec := fb.get("/setup")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /setup: %d", rec.Code)
	}
	report("/setup", parse(t, rec))
	fb.completeSetup()
	rec = fb.get("/login")
	report("/login", parse(t, rec))

	a, b := germanConfigApp(t)
	// An unknown address is answered before the session is read: it
	// follows the browser.
	b.headers = german
	rec = b.get("/no-such-page")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page: %d", rec.Code)
	}
	report("/no-such-page", parse(t, rec))
	b.headers = map[string]string{"Accept-Language": "en"}
	pages := walkPages(t, a, b, report)
	var done []string
	for q, ok := range clean {
		if ok {
			done = append(done, q)
		}
	}
	sort.Strings(done)
	for _, q := range done {
		t.Errorf("%s is listed as pending translation but shows no English: take it off pendingGerman", q)
	}
	t.Logf("%d pages in German, %d pending translation", pages, len(pendingGerman))
}

// TestAccountLanguage: a viewer chooses German on /account and the panel
// speaks German to them whatever the browser asks; choosing "as the
// browser asks" follows Accept-Language again; an unknown language is
// refused. Each change is audited.
func TestAccountLanguage(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	b := a.browserAs("vera", models.RoleViewer)
	b.headers = map[string]string{"Accept-Language": "en-GB,en;q=0.9"}
	pageLang := func() (string, *goquery.Document) {
		rec := b.get("/account")
		doc := parse(t, rec)
		// The header says it too, for the script to set <html lang> on a
		// boosted page.
		lang := doc.Find("html").AttrOr("lang", "")
		if h := rec.Header().Get("Content-Language"); h != lang {
			t.Errorf("Content-Language %q on a page in %q", h, lang)
		}
		return lang, doc
	}
	if got, _ := pageLang(); got != "en" {
		t.Fatalf("before the choice: lang %q, want en", got)
	}
	assertRedirect(t, b.postForm("/account/language", "/account", url.Values{"language": {"de"}}), "/account")
	got, doc := pageLang()
	if got != "de" {
		t.Fatalf("after choosing German: lang %q, want de", got)
	}
	if h := strings.TrimSpace(doc.Find("h1").First().Text()); h != "Ihr Konto" {
		t.Errorf("heading %q, want Ihr Konto", h)
	}
	if msg := strings.TrimSpace(doc.Find(".flash--success").Text()); msg != "Ihre Sprache ist gespeichert." {
		t.Errorf("flash %q: the answer to the change must already be German", msg)
	}
	if sel := doc.Find(`select[name="language"] option[selected]`).AttrOr("value", "?"); sel != "de" {
		t.Errorf("selected language %q, want de", sel)
	}
	rec := b.postForm("/account/language", "/account", url.Values{"language": {"tlh"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("unknown language: %d, want 422", rec.Code)
	}
	b.headers = map[string]string{"Accept-Language": "de-AT"}
	assertRedirect(t, b.postForm("/account/language", "/account", url.Values{"language": {""}}), "/account")
	if got, _ := pageLang(); got != "de" {
		t.Errorf("following an Austrian browser: lang %q, want de", got)
	}
	b.headers = map[string]string{"Accept-Language": "fr"}
	if got, _ := pageLang(); got != "en" {
		t.Errorf("following a French browser: lang %q, want en (the default)", got)
	}
	u, err := a.s.users.ByName(t.Context(), "vera")
	if err != nil || u.Language != "" {
		t.Fatalf("stored language %q, %v", u.Language, err)
	}
	entries, _, err := a.app.Audit.List(t.Context(), models.AuditFilter{}, models.Page{Number: 1, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range entries {
		if e.Action == models.AuditUserChange && e.Actor == "vera" {
			details = append(details, e.Detail)
		}
	}
	sort.Strings(details)
	if want := []string{"own language: browser", "own language: de"}; !slices.Equal(details, want) {
		t.Errorf("audit details %q, want %q", details, want)
	}
}

// refusalValue is what TestGermanRefusalsShowNoEnglish types into every
// field: no address, name, number, path, time or URL any form takes.
const refusalValue = "x!"

// textInputs are the fields a person types into.
const textInputs = `input:not([type]), input[type="text"], input[type="number"], input[type="email"], input[type="url"],
	input[type="password"], input[type="search"], input[type="time"], input[type="date"], input[type="datetime-local"], textarea`

// refusalForm is a form found on a page: where it posts and what the
// walk sends.
type refusalForm struct {
	page, action string
	htmx         bool
	values       url.Values
}

// refusalForms returns the forms of doc that post and have a field to type
// into, with every such field (and every choice) filled with refusalValue
// and the hidden fields (the CSRF token, ids) kept: forms of buttons only
// (unban, delete) are actions, not input, and are left alone.
func refusalForms(page string, doc *goquery.Document) []refusalForm {
	var out []refusalForm
	doc.Find("form").Each(func(_ int, form *goquery.Selection) {
		method := strings.ToLower(form.AttrOr("method", "get"))
		action, htmx := form.AttrOr("action", ""), false
		if hx, ok := form.Attr("hx-post"); ok {
			action, htmx = hx, true
		} else if method != "post" {
			return
		}
		if form.Find(textInputs).Length() == 0 {
			return
		}
		v := url.Values{}
		form.Find("input, textarea, select").Each(func(_ int, in *goquery.Selection) {
			name := in.AttrOr("name", "")
			if name == "" || in.Is("[disabled]") {
				return
			}
			switch {
			case in.Is(`input[type="hidden"]`):
				v.Add(name, in.AttrOr("value", ""))
			case in.Is(textInputs), in.Is("select"):
				v.Set(name, refusalValue)
			}
		})
		if action == "" {
			action = page
		}
		out = append(out, refusalForm{page: page, action: action, htmx: htmx, values: v})
	})
	return out
}

// TestGermanRefusalsShowNoEnglish submits every form of the panel, found as
// the German walk finds the pages, with refusalValue in each field, as a
// German account, and fails on any answer (the refused form, its flash, the
// error page) that shows English: the messages of the services and of
// fail2ban's checks are translated where they are shown.
func TestGermanRefusalsShowNoEnglish(t *testing.T) {
	english := englishOnly()
	a, b := germanConfigApp(t)
	var found []refusalForm
	seen := map[string]bool{}
	walkPages(t, a, b, func(p string, doc *goquery.Document) {
		for _, f := range refusalForms(p, doc) {
			keys := slices.Sorted(maps.Keys(f.values))
			if key := f.action + "?" + strings.Join(keys, "&"); !seen[key] {
				seen[key] = true
				found = append(found, f)
			}
		}
	})
	// Three of a family of many sibling pages with the same form (every
	// filter's page, every action's): the others refuse alike.
	family := func(action string) string { return action[:max(strings.LastIndex(action, "/"), 0)] }
	siblings, kept := map[string]int{}, map[string]int{}
	for _, f := range found {
		siblings[family(f.action)]++
	}
	var forms []refusalForm
	for _, f := range found {
		if fam := family(f.action); siblings[fam] <= 8 || kept[fam] < 3 {
			kept[fam]++
			forms = append(forms, f)
		}
	}
	if len(forms) < 15 {
		t.Fatalf("only %d forms to refuse: the walk is not seeing the app", len(forms))
	}
	refused := 0
	for _, f := range forms {
		hdr := map[string]string{}
		if f.htmx {
			hdr["HX-Request"] = "true"
		}
		rec := b.do(http.MethodPost, f.action, f.values, hdr)
		where := f.action + " (form on " + f.page + ")"
		t.Logf("submitting %s", where)
		if rec.Code >= 500 {
			t.Errorf("%s: status %d", where, rec.Code)
		}
		if loc := rec.Header().Get("Location"); rec.Code/100 == 3 && loc != "" {
			if strings.Contains(loc, "/login") {
				t.Fatalf("%s: logged out (redirect to %s)", where, loc)
			}
			rec = b.get(loc) // the flash the redirect carries
			where += " → " + loc
		}
		if rec.Code == http.StatusUnprocessableEntity || rec.Code/100 == 4 {
			refused++
		}
		doc := parse(t, rec)
		for _, found := range untranslated(doc, english) {
			t.Errorf("%s: English in German: %s", where, found)
		}
	}
	t.Logf("%d forms submitted with %q in every field, %d refused", len(forms), refusalValue, refused)
}
