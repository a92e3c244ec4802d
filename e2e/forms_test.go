package e2e

import (
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
