package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// defaultButtonProblemsJS lists the forms of the page on which Enter (implicit
// submission, a phone keyboard's "Go") would not press the main button: for
// every form with more than one submit button, the button Chromium itself
// takes as the form's default (the :default pseudo-class) must be the one
// marked data-main. checkPage runs it on every page a flow checks, so every
// form of the panel is walked without being listed; handlers'
// TestEnterPressesTheMainButton checks the same from the server's HTML.
const defaultButtonProblemsJS = `(() => {
	const out = [];
	for (const f of document.forms) {
		const subs = [...f.elements].filter(el => (el.tagName === "BUTTON" || el.tagName === "INPUT") && (el.type === "submit" || el.type === "image"));
		if (subs.length < 2) continue;
		const def = subs.find(el => el.matches(":default"));
		const main = subs.filter(el => el.hasAttribute("data-main"));
		if (main.length !== 1 || def !== main[0]) {
			out.push("form " + (f.getAttribute("action") || f.id) + ": Enter presses " + JSON.stringify(def ? def.textContent.trim() : null) +
				", its main button is " + JSON.stringify(main.map(m => m.textContent.trim())));
		}
	}
	return out;
})()`

// submitWithEnter presses Enter in the field sel, as a phone keyboard's "Go"
// does, which submits its form through the form's default button; it waits
// for the new page and returns the HTTP status of the final document.
func (b *browser) submitWithEnter(t *testing.T, sel string) int64 {
	t.Helper()
	return b.load(t, "Enter in "+sel, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent("\r"))
}

// enterProbeJS arms the page for one Enter key in a field of form number
// %d: it focuses the form's first visible field in which Enter submits
// (a text-like input) and catches, in the capture phase and before htmx,
// the click that implicit submission dispatches on the form's default
// button, or the submit of a form without one, cancelling both, so the
// probe changes nothing. It returns false when the form has no such field.
const enterProbeJS = `(() => {
	const f = document.forms[%d];
	const typing = new Set(["text", "search", "password", "email", "url", "tel", "number", "date", "time", "datetime-local", "month", "week"]);
	const field = f && [...f.elements].find(el => el.tagName === "INPUT" && typing.has(el.type) && !el.disabled && !el.readOnly && el.checkVisibility());
	if (!field) return false;
	const probe = window.__enterProbe = {form: f, pressed: null, submitted: false, scroll: [scrollX, scrollY]};
	probe.click = e => {
		const b = e.target.closest && e.target.closest("button, input");
		if (!b || b.form !== f) return;
		probe.pressed = b.hasAttribute("data-main") ? "main" : JSON.stringify(b.textContent.trim() || b.value);
		e.preventDefault();
		e.stopImmediatePropagation();
	};
	probe.submit = e => {
		if (e.target !== f) return;
		probe.submitted = true;
		e.preventDefault();
		e.stopImmediatePropagation();
	};
	addEventListener("click", probe.click, true);
	addEventListener("submit", probe.submit, true);
	field.focus();
	return true;
})()`

// enterResultJS disarms the probe of enterProbeJS, puts the focus and the
// scroll position back, and says what Enter did in form number %d: "" when
// it pressed the form's main button (data-main, or its only submit button),
// else the problem.
const enterResultJS = `(() => {
	const f = document.forms[%d], probe = window.__enterProbe;
	removeEventListener("click", probe.click, true);
	removeEventListener("submit", probe.submit, true);
	delete window.__enterProbe;
	// A live refresh swapped the form out (the per-IP page's state): the
	// key reached no form; ask again.
	if (!probe.form.isConnected && probe.pressed === null) return "retry";
	if (document.activeElement) document.activeElement.blur();
	scrollTo(probe.scroll[0], probe.scroll[1]);
	const subs = [...f.elements].filter(el => (el.tagName === "BUTTON" || el.tagName === "INPUT") && (el.type === "submit" || el.type === "image"));
	if (subs.length === 0) return "";
	const name = "form " + (f.getAttribute("action") || f.id || "#%d");
	if (probe.pressed === null) return name + ": Enter in a field pressed no button" + (probe.submitted ? " (it submitted without one)" : "");
	if (subs.length === 1 || probe.pressed === "main") return "";
	return name + ": Enter in a field pressed " + probe.pressed + ", not the main button";
})()`

// enterProblems presses Enter, as a keyboard does, in a field of every
// visible form of the current page that has one, and reports each form on
// which it did not press the main button. Nothing is submitted.
func (b *browser) enterProblems(t *testing.T) []string {
	t.Helper()
	var problems []string
	n := eval[int](t, b, `document.forms.length`)
	for i := range n {
		if !eval[bool](t, b, fmt.Sprintf(enterProbeJS, i)) {
			continue
		}
		p := b.pressEnterIn(t, i)
		for try := 0; p == "retry" && try < 3; try++ {
			if !eval[bool](t, b, fmt.Sprintf(enterProbeJS, i)) {
				p = ""
				break
			}
			p = b.pressEnterIn(t, i)
		}
		if p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// pressEnterIn presses Enter in the field enterProbeJS armed in form
// number i and returns what enterResultJS says of it.
func (b *browser) pressEnterIn(t *testing.T, i int) string {
	t.Helper()
	b.do(t, chromedp.KeyEvent("\r"))
	return eval[string](t, b, fmt.Sprintf(enterResultJS, i, i))
}
