package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// submitButtons are the buttons that submit a form: buttons without a type
// or of type submit, and submit or image inputs.
const submitButtons = `button:not([type]), button[type="submit"], input[type="submit"], input[type="image"]`

// formSubmitters returns the submit buttons of a form in tree order: those
// inside it that do not name another form, and those outside it that name it
// with form="id".
func formSubmitters(doc *goquery.Document, form *goquery.Selection) []*goquery.Selection {
	id := form.AttrOr("id", "")
	var out []*goquery.Selection
	doc.Find(submitButtons).Each(func(_ int, b *goquery.Selection) {
		owner, named := b.Attr("form")
		switch {
		case named && id != "" && owner == id:
			out = append(out, b)
		case !named && b.Closest("form").IsSelection(form):
			out = append(out, b)
		}
	})
	return out
}

// checkImplicitSubmission reports every form of doc whose Enter key (implicit
// submission presses the first submit button in tree order) would not do
// what its main button says: a form with more than one submit button must
// mark exactly one with data-main, and that one must come first.
func checkImplicitSubmission(t *testing.T, page string, doc *goquery.Document) (multi int) {
	t.Helper()
	doc.Find("form").Each(func(i int, form *goquery.Selection) {
		subs := formSubmitters(doc, form)
		if len(subs) < 2 {
			return
		}
		multi++
		name := form.AttrOr("action", form.AttrOr("hx-post", form.AttrOr("id", "")))
		t.Logf("%s: form %q has %d submit buttons", page, name, len(subs))
		var mains []string
		for _, b := range subs {
			if _, ok := b.Attr("data-main"); ok {
				mains = append(mains, strings.TrimSpace(b.Text()))
			}
		}
		if len(mains) != 1 {
			t.Errorf("%s: form %q has %d submit buttons and %d marked data-main (%q); mark its main one", page, name, len(subs), len(mains), mains)
			return
		}
		first := subs[0]
		if _, ok := first.Attr("data-main"); !ok {
			t.Errorf("%s: form %q: Enter presses %q, not its main button %q: put the main button first in tree order (or views.DefaultSubmit)",
				page, name, strings.TrimSpace(first.Text()), mains[0])
			return
		}
		if !first.HasClass("form__default") {
			return
		}
		// An invisible default button must do what a visible one does.
		twin := false
		for _, b := range subs[1:] {
			twin = twin || (strings.TrimSpace(b.Text()) == mains[0] && b.AttrOr("formaction", "") == "" &&
				b.AttrOr("name", "") == first.AttrOr("name", "") && b.AttrOr("value", "") == first.AttrOr("value", ""))
		}
		if !twin || first.AttrOr("formaction", "") != "" || first.AttrOr("tabindex", "") != "-1" || first.AttrOr("aria-hidden", "") != "true" {
			t.Errorf("%s: form %q: the invisible default button %q has no visible twin, or can be reached", page, name, mains[0])
		}
	})
	return multi
}

// TestEnterPressesTheMainButton walks every page an admin can open (the GET
// routes of the route table, then the links found on those pages) and the
// first-run setup page, and checks every form on them with
// checkImplicitSubmission, so a form added later is covered without listing it.
func TestEnterPressesTheMainButton(t *testing.T) {
	// The setup page exists only before the first run.
	fresh := newTestApp(t, t.TempDir())
	rec := fresh.browser().get("/setup")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /setup: %d", rec.Code)
	}
	multi := checkImplicitSubmission(t, "/setup", parse(t, rec))

	a, b, _ := configApp(t)
	// With an authenticator app set up, /account shows the form that makes
	// new recovery codes or turns the app off.
	(&factorApp{testApp: a, clock: time.Now()}).enrolAdmin()
	pages := walkPages(t, a, b, func(p string, doc *goquery.Document) {
		multi += checkImplicitSubmission(t, p, doc)
	})
	if multi == 0 {
		t.Fatal("no form with more than one submit button: the check saw none (the setup page has one)")
	}
	t.Logf("%d pages, %d forms with more than one submit button", pages, multi)
}

// walkPages opens, as b, every page of a (the GET routes of the route
// table, then the links found on those pages, at most three query variants
// of a path) and calls visit with each HTML page; it fails the test when it
// saw fewer than 20 pages, and returns how many it saw.
func walkPages(t *testing.T, a *testApp, b *browser, visit func(p string, doc *goquery.Document)) int {
	t.Helper()
	skip := func(p string) bool {
		return strings.HasPrefix(p, "/assets/") || strings.HasPrefix(p, "/events") || strings.HasPrefix(p, "/__e2e") ||
			p == "/logout" || strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".png") || strings.HasSuffix(p, ".json")
	}
	var queue []string
	seen := map[string]bool{}
	variants := map[string]int{} // pages per path: query strings (filters, pages) render the same forms
	add := func(p string) {
		path, _, _ := strings.Cut(p, "?")
		if !seen[p] && !skip(path) && variants[path] < 3 {
			seen[p] = true
			variants[path]++
			queue = append(queue, p)
		}
	}
	for _, r := range appRoutes(t, a) {
		if r.method == http.MethodGet {
			add(strings.TrimPrefix(r.target, a.cfg.BasePath))
		}
	}
	pages := 0
	for len(queue) > 0 && pages < 400 {
		p := queue[0]
		queue = queue[1:]
		rec := b.get(p)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			continue
		}
		pages++
		doc := parse(t, rec)
		visit(p, doc)
		doc.Find("a[href]").Each(func(_ int, l *goquery.Selection) {
			u, err := url.Parse(l.AttrOr("href", ""))
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, a.cfg.BasePath+"/") || l.AttrOr("download", "-") != "-" {
				return
			}
			u.Fragment = ""
			u.Path = strings.TrimPrefix(u.Path, a.cfg.BasePath)
			add(u.String())
		})
	}
	if pages < 20 {
		t.Fatalf("only %d pages rendered: the walk is not seeing the app", pages)
	}
	return pages
}

// TestValidationAnswersAreNotHTMXErrors reads the htmx-config meta of a page
// and picks each status's rule as htmx 2 does (the first whose code, a
// regular expression, matches): a 422 (a refused form, its messages in the
// answer) is swapped in and is no error, so htmx logs nothing to the console;
// other 4xx and 5xx answers stay errors.
func TestValidationAnswersAreNotHTMXErrors(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	doc := parse(t, a.browser().get("/setup"))
	content, ok := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	if !ok {
		t.Fatal("no htmx-config meta")
	}
	var cfg struct {
		ResponseHandling []struct {
			Code  string `json:"code"`
			Swap  bool   `json:"swap"`
			Error bool   `json:"error"`
		} `json:"responseHandling"`
	}
	if err := json.Unmarshal([]byte(content), &cfg); err != nil {
		t.Fatal(err)
	}
	for status, want := range map[int][2]bool{ // swap, error
		200: {true, false}, 204: {false, false}, 422: {true, false}, 400: {true, true}, 403: {true, true}, 500: {true, true}, 502: {true, true},
	} {
		found := false
		for _, r := range cfg.ResponseHandling {
			if regexp.MustCompile(r.Code).MatchString(strconv.Itoa(status)) {
				if got := [2]bool{r.Swap, r.Error}; got != want {
					t.Errorf("status %d: swap, error = %v, want %v", status, got, want)
				}
				found = true
				break
			}
		}
		if !found {
			t.Errorf("status %d: no rule", status)
		}
	}
}
