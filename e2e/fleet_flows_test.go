package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bangui/fail2ban/sandbox"
	"bangui/services"
)

// fleetScreenshots are the fleet flow's pages, on every device.
var fleetScreenshots = []string{
	"hosts", "hosts-confirm", "hosts-enrolled", "dashboard-fleet", "map-fleet",
	"jails-host", "jails-fleet", "jails-frozen", "host-offline", "hosts-offline", "history-fleet",
}

// fleetIPs are the addresses one device bans in the fleet flow: on one
// host, on every host, and on a host while its agent is stopped.
func fleetIPs(d device) (one, every, meanwhile string) {
	if d.phone {
		return "203.0.113.32", "203.0.113.42", "203.0.113.52"
	}
	return "203.0.113.31", "203.0.113.41", "203.0.113.51"
}

// flowFleet enrols the device's agents on the Hosts page, sees their bans
// on the combined dashboard and map, bans on one host and on every host,
// stops an agent (pages still answer within the deadline and name it) and
// restarts it (its history arrives, nothing doubled). It runs last: the
// other flows expect a panel of one host.
func flowFleet(t *testing.T, b *browser) {
	if b.app.demo {
		t.Skip("the demo has no fleet")
	}
	hs := b.app.fleet
	if len(hs) == 0 {
		t.Fatalf("%s: no fleet hosts", b.dev.name)
	}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"enrol", func(t *testing.T) { fleetEnrol(t, b, hs) }},
		{"combined", func(t *testing.T) { fleetCombined(t, b, hs) }},
		{"ban", func(t *testing.T) { fleetBan(t, b, hs) }},
		{"agent-frozen", func(t *testing.T) { fleetAgentFrozen(t, b, hs) }},
		{"agent-down", func(t *testing.T) { fleetAgentDown(t, b, hs) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("%s: fleet step %s failed; later steps depend on it", b.dev.name, s.name)
		}
	}
}

// fleetEnrol adds each host through the Hosts page: the agent's address and
// token, then the fingerprint to compare with the one the agent printed.
func fleetEnrol(t *testing.T, b *browser, hs []*fleetHost) {
	b.visit(t, "/")
	b.openMenu(t)
	if status := b.follow(t, fmt.Sprintf(`#site-nav a[href=%q]`, basePath+"/hosts")); status != 200 {
		t.Fatalf("%s: Hosts answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/hosts")
	if n := eval[int](t, b, `document.querySelectorAll("[data-testid=hosts-empty]").length`); n != 1 {
		t.Errorf("%s: the Hosts page of a single host has no empty state", b.dev.name)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#host-select").length`); n != 0 {
		t.Errorf("%s: a single host has a host selector", b.dev.name)
	}
	b.check(t, "hosts")

	for i, h := range hs {
		b.typeInto(t, "#host-name", h.name)
		b.typeInto(t, "#host-url", h.agent.URL)
		b.typeInto(t, "#host-token", h.Token())
		b.do(t, b.press(button("Check the agent")), chromedp.WaitVisible(chromedp.CSS("[data-testid=fingerprint]")))
		shown := b.text(t, "[data-testid=fingerprint]")
		if strings.Join(strings.Fields(shown), "") != h.Fingerprint() {
			t.Fatalf("%s: the panel shows the fingerprint %q, the agent printed %q", b.dev.name, shown, h.Fingerprint())
		}
		if i == 0 {
			b.check(t, "hosts-confirm")
		}
		row := fmt.Sprintf(`tr[data-host=%q]`, h.id)
		b.do(t, b.press(button("They are the same: enrol "+h.name)), chromedp.WaitVisible(chromedp.CSS(row)))
		b.wantPath(t, basePath+"/hosts")
		if msg := b.text(t, "#flash"); !strings.Contains(msg, "Enrolled "+h.name) {
			t.Errorf("%s: flash after enrolling = %q", b.dev.name, msg)
		}
		if st := b.text(t, row+" [data-testid=host-state]"); st != "Online" {
			t.Errorf("%s: %s is %q after enrolment, want Online (%s)", b.dev.name, h.id, st, b.text(t, row+" [data-testid=host-problem]"))
		}
	}
	b.check(t, "hosts-enrolled")

	// Every page now has the host selector: All hosts, this machine and each agent.
	want := []string{"", "local"}
	for _, h := range hs {
		want = append(want, h.id)
	}
	got := eval[[]string](t, b, `[...document.querySelectorAll("#host-select option")].map(o => o.value)`)
	if !slices.Equal(got, want) {
		t.Errorf("%s: host selector offers %q, want %q", b.dev.name, got, want)
	}
}

// fleetCombined waits until every host's seeded bans reached the panel's
// archive through the agents, then checks them on the combined dashboard
// (host column) and the map (counted per country).
func fleetCombined(t *testing.T, b *browser, hs []*fleetHost) {
	seeded := map[string]string{} // address → host id
	countries := map[string]int{}
	for _, h := range hs {
		for _, ip := range h.seed {
			seeded[ip] = h.id
		}
		countries[h.country] += len(h.seed)
	}
	// The dashboard's table, page after page as htmx asks for it, until it
	// lists every seeded address with its host.
	missing := pollPage(t, b, fmt.Sprintf(`async () => {
		const want = %s, seen = {};
		for (let page = 1; page <= 50; page++) {
			const html = await (await fetch(%q + "/?range=24h&page=" + page, {headers: {"HX-Request": "true"}})).text();
			const rows = new DOMParser().parseFromString(html, "text/html").querySelectorAll("tbody tr[data-ip]");
			for (const r of rows) {
				const td = r.querySelector("td[data-host]");
				seen[r.dataset.ip] = td ? td.dataset.host : "(no host column)";
			}
			if (rows.length < 100) break;
		}
		return Object.keys(want).filter(ip => seen[ip] !== want[ip]).map(ip => ip + " on " + (seen[ip] || "nothing")).join(", ");
	}`, jsJSON(t, seeded), basePath))
	if missing != "" {
		t.Fatalf("%s: the combined dashboard does not list the agents' bans: %s", b.dev.name, missing)
	}
	b.visit(t, "/")
	if s := b.text(t, "[data-testid=status-hosts]"); s != fmt.Sprintf("All %d hosts online", len(hs)+1) {
		t.Errorf("%s: status bar says %q", b.dev.name, s)
	}
	hosts := eval[[]string](t, b, `[...new Set([...document.querySelectorAll("#dash-bans td[data-host]")].map(td => td.dataset.host))]`)
	if len(hosts) == 0 {
		t.Errorf("%s: the combined dashboard has no host column", b.dev.name)
	}
	b.check(t, "dashboard-fleet")

	// The map counts the agents' bans in their countries (the geo fill runs
	// after each archive sync).
	checks := make([]string, 0, len(countries))
	for c, n := range countries {
		checks = append(checks, fmt.Sprintf(`%q: %d`, c, n))
	}
	wrong := pollPage(t, b, fmt.Sprintf(`async () => {
		const want = {%s};
		const doc = new DOMParser().parseFromString(await (await fetch(%q + "/map?range=24h")).text(), "text/html");
		return Object.entries(want).map(([c, n]) => {
			const a = doc.querySelector('svg.worldmap a[data-country="' + c + '"]');
			const got = a ? a.getAttribute("data-bans") : "none";
			return got === String(n) ? "" : c + " has " + got + ", want " + n;
		}).filter(Boolean).join("; ");
	}`, strings.Join(checks, ", "), basePath))
	if wrong != "" {
		t.Errorf("%s: the map does not count the agents' bans: %s", b.dev.name, wrong)
	}
	b.visit(t, "/map")
	b.check(t, "map-fleet")
}

// fleetBan bans one address on one host (chosen with the host selector)
// and another on every host, then unbans that one on every host, and asks
// each sandbox's fail2ban whether it has them.
func fleetBan(t *testing.T, b *browser, hs []*fleetHost) {
	one, every, _ := fleetIPs(b.dev)
	h := hs[0]
	b.visit(t, "/jails")
	b.chooseHost(t, h.id)
	b.wantPath(t, basePath+"/jails?host="+h.id)
	if l := b.text(t, `label[for="ban-where-host"]`); l != "This host ("+h.name+")" {
		t.Errorf("%s: the one-host choice reads %q", b.dev.name, l)
	}
	b.typeInto(t, "#ban-target", one)
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"),
		b.press("#ban-where-host"),
		b.press(button("Ban")), chromedp.WaitVisible(chromedp.CSS(".flash--success")))
	want := fmt.Sprintf("%s: Banned %s in sshd", h.name, one)
	if msg := b.text(t, "#flash"); !strings.Contains(msg, want) {
		t.Errorf("%s: flash after banning on one host = %q, want %q", b.dev.name, msg, want)
	}
	b.check(t, "jails-host")
	for _, o := range b.allSandboxes() {
		if got, want := bannedIn(t, o.sb, one), o.id == h.id; got != want {
			t.Errorf("%s: %s banned on %s: %v, want %v", b.dev.name, one, o.id, got, want)
		}
	}

	// Every host: one line per host in the result.
	b.typeInto(t, "#ban-target", every)
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"),
		b.press("#ban-where-all"),
		b.press(button("Ban")), chromedp.WaitVisible(chromedp.CSS("[data-testid=host-results]")))
	items := eval[[]string](t, b, `[...document.querySelectorAll("[data-testid=host-results] li")].map(li => li.textContent.trim())`)
	if len(items) != len(hs)+1 {
		t.Errorf("%s: %d lines in the result of a ban on every host, want %d: %q", b.dev.name, len(items), len(hs)+1, items)
	}
	for _, it := range items {
		if !strings.Contains(it, "banned in sshd (1 new)") {
			t.Errorf("%s: result line %q", b.dev.name, it)
		}
	}
	local := b.localSandbox()
	for _, o := range append([]namedSandbox{local}, b.deviceSandboxes()...) {
		if !bannedIn(t, o.sb, every) {
			t.Errorf("%s: %s is not banned on %s after the ban on every host", b.dev.name, every, o.id)
		}
	}

	// Unban on every host: one line per host again, and no sandbox has it.
	b.typeInto(t, "#unban-target", every)
	b.do(t, b.press("#unban-where-all"), b.press(button("Unban")))
	// The ban's result is on the page until the unban's replaces it.
	b.waitJS(t, `document.querySelector("[data-testid=host-results] li")?.textContent.includes("unbanned")`)
	items = eval[[]string](t, b, `[...document.querySelectorAll("[data-testid=host-results] li")].map(li => li.textContent.trim())`)
	if len(items) != len(hs)+1 {
		t.Errorf("%s: %d lines in the result of an unban on every host, want %d: %q", b.dev.name, len(items), len(hs)+1, items)
	}
	for _, it := range items {
		if !strings.Contains(it, "unbanned from every jail (1 lifted)") {
			t.Errorf("%s: result line %q", b.dev.name, it)
		}
	}
	for _, o := range append([]namedSandbox{local}, b.deviceSandboxes()...) {
		if bannedIn(t, o.sb, every) {
			t.Errorf("%s: %s is still banned on %s after the unban on every host", b.dev.name, every, o.id)
		}
	}

	// All hosts: the jails page groups the jails by host.
	b.chooseHost(t, "")
	if p := eval[string](t, b, "location.pathname"); p != basePath+"/jails" {
		t.Errorf("%s: All hosts led to %s", b.dev.name, p)
	}
	groups := eval[[]string](t, b, `[...document.querySelectorAll("section.host-group")].map(s => s.dataset.host)`)
	if len(groups) != len(hs)+1 {
		t.Errorf("%s: the jails of every host show the groups %q", b.dev.name, groups)
	}
	b.check(t, "jails-fleet")
}

// fleetAgentFrozen freezes the device's last agent (SIGSTOP: its port
// still accepts connections, nothing answers): the page that asks every
// host waits for it no longer than the per-host deadline, and names it.
func fleetAgentFrozen(t *testing.T, b *browser, hs []*fleetHost) {
	h := hs[len(hs)-1]
	if err := h.agent.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thaw := func() { _ = h.agent.Signal(syscall.SIGCONT) }
	t.Cleanup(thaw)
	waitProcState(t, h.agent.Pid(), 'T')
	b.visit(t, "/jails")
	thaw()
	took := b.navigationTime(t)
	limit := services.HostDeadline + 500*time.Millisecond
	t.Logf("%s: /jails with %s frozen answered in %.0f ms", b.dev.name, h.id, took)
	if took > float64(limit.Milliseconds()) {
		t.Errorf("%s: /jails took %.0f ms with a frozen agent, want at most %v (the per-host deadline and a margin)", b.dev.name, took, limit)
	}
	if s := b.text(t, fmt.Sprintf(`section.host-group[data-host=%q] [data-testid=host-error]`, h.id)); !strings.HasPrefix(s, h.name+":") {
		t.Errorf("%s: the jails of the frozen %s say %q", b.dev.name, h.id, s)
	}
	if n := eval[int](t, b, `document.querySelectorAll("section.host-group table").length`); n != len(hs) {
		t.Errorf("%s: %d hosts' jails shown with one frozen, want %d", b.dev.name, n, len(hs))
	}
	b.check(t, "jails-frozen")
}

// waitProcState waits until the process is in the state (a letter of
// /proc/pid/stat, such as T for stopped), for at most 5 s.
func waitProcState(t *testing.T, pid int, state byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		// pid (comm) S ...: the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is not in state %c: %s", pid, state, b)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// navigationTime is how long the current page took from the start of its
// navigation to its last byte, in ms, as the browser measured it.
func (b *browser) navigationTime(t *testing.T) float64 {
	t.Helper()
	return eval[float64](t, b, `(() => { const n = performance.getEntriesByType("navigation")[0]; return n.responseEnd - n.startTime; })()`)
}

// fleetAgentDown stops the device's first agent: the pages that ask every
// host answer within the deadline and name it. While it is down its
// fail2ban bans one more address; once it is back, its history arrives in
// the archive, nothing doubled.
func fleetAgentDown(t *testing.T, b *browser, hs []*fleetHost) {
	h := hs[0]
	_, _, meanwhile := fleetIPs(b.dev)
	// The archive of h settles: its seed, the two bans and the unban of
	// fleetBan, each manual ban folded with fail2ban's record of it.
	before := len(h.seed) + 3
	if rows := b.waitArchive(t, h, before); len(rows) != before {
		t.Fatalf("%s: %s has %d archived events before the stop, want %d: %q", b.dev.name, h.id, len(rows), before, rows)
	}

	h.stop(t)
	for _, page := range []struct{ path, shot string }{{"/jails", ""}, {"/", "host-offline"}} {
		b.visit(t, page.path)
		took := b.navigationTime(t)
		t.Logf("%s: %s with %s stopped answered in %.0f ms", b.dev.name, page.path, h.id, took)
		if took > 2000 {
			t.Errorf("%s: %s took %.0f ms with an agent down, want at most 2 s", b.dev.name, page.path, took)
		}
		if s := b.text(t, "[data-testid=status-offline]"); !strings.Contains(s, h.name+" did not answer") {
			t.Errorf("%s: %s: the status bar says %q, want %s named", b.dev.name, page.path, s, h.name)
		}
		if page.path == "/jails" {
			if s := b.text(t, fmt.Sprintf(`section.host-group[data-host=%q] [data-testid=host-error]`, h.id)); !strings.HasPrefix(s, h.name+":") {
				t.Errorf("%s: the jails of %s say %q", b.dev.name, h.id, s)
			}
		}
		if page.shot != "" {
			b.check(t, page.shot)
		}
	}
	b.visit(t, "/hosts")
	row := fmt.Sprintf(`tr[data-host=%q]`, h.id)
	if st := b.text(t, row+" [data-testid=host-state]"); st != "Offline" {
		t.Errorf("%s: %s is %q on the Hosts page, want Offline", b.dev.name, h.id, st)
	}
	if why := b.text(t, row+" [data-testid=host-problem]"); why == "none" || why == "" {
		t.Errorf("%s: the Hosts page gives no reason for %s", b.dev.name, h.id)
	}
	b.check(t, "hosts-offline")

	// fail2ban goes on without the agent; the agent comes back on the same
	// address and data dir, enrolled: it prints no token.
	if !banIn(t, h.sb, meanwhile) {
		t.Fatalf("%s: %s: could not ban %s", b.dev.name, h.id, meanwhile)
	}
	h.start(t)
	if h.Token() != "" {
		t.Errorf("%s: the enrolled agent %s printed an enrolment token again", b.dev.name, h.id)
	}
	rows := b.waitArchive(t, h, before+1)
	if len(rows) != before+1 || !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, ","+meanwhile+",") }) {
		t.Errorf("%s: after the restart %s has %d archived events, want %d with %s: %q", b.dev.name, h.id, len(rows), before+1, meanwhile, rows)
	}
	// The status bar's own poll finds the host back.
	back := pollPage(t, b, fmt.Sprintf(`async () => {
		const html = await (await fetch(%q + "/status", {headers: {"HX-Request": "true"}})).text();
		return html.includes("All %d hosts online") ? "" : html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ");
	}`, basePath, len(hs)+1))
	if back != "" {
		t.Errorf("%s: the status bar does not find %s back: %s", b.dev.name, h.id, back)
	}
	b.visit(t, "/history?source=archive&host="+h.id)
	if info := b.text(t, "#history-bans .pager__info"); !strings.Contains(info, fmt.Sprintf("of %d", before+1)) {
		t.Errorf("%s: the history of %s says %q, want %d events", b.dev.name, h.id, info, before+1)
	}
	b.check(t, "history-fleet")
}

// waitArchive reads the host's archived events from the history CSV (as
// the browser downloads it) until there are want of them, for at most
// 20 s, and returns the last rows read. It fails on an event that is there
// twice.
func (b *browser) waitArchive(t *testing.T, h *fleetHost, want int) []string {
	t.Helper()
	var rows []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		text := run(t, b, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.text())`,
			basePath+"/history.csv?source=archive&host="+h.id), chromedp.EvalAwaitPromise))
		rows = archiveEvents(t, text)
		if dup := duplicate(rows); dup != "" {
			t.Fatalf("%s: the archive of %s holds an event twice: %s", b.dev.name, h.id, dup)
		}
		if len(rows) == want || time.Now().After(deadline) {
			return rows
		}
		time.Sleep(250 * time.Millisecond) // polling interval; the archive syncs every 2 s
	}
}

// archiveEvents returns the rows of a history CSV as
// "time,ip,jail,action,origin".
func archiveEvents(t *testing.T, text string) []string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("history CSV: %v: %q", err, text)
	}
	var rows []string
	for _, r := range recs[1:] {
		rows = append(rows, strings.Join(r[:5], ","))
	}
	return rows
}

// duplicate returns a time, address, jail and action that rows hold twice,
// or "".
func duplicate(rows []string) string {
	seen := map[string]bool{}
	for _, r := range rows {
		k := r[:strings.LastIndexByte(r, ',')] // without the origin
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}

// chooseHost picks a host (or "" for All hosts) in the host selector,
// which submits itself on the change event SetValue sends, and waits for
// the page it loads.
func (b *browser) chooseHost(t *testing.T, id string) {
	t.Helper()
	b.do(t, chromedp.SetValue(chromedp.CSS("#host-select"), id))
	b.waitJS(t, fmt.Sprintf(`(new URLSearchParams(location.search).get("host") || "") === %q && document.readyState === "complete" && document.getElementById("host-select")?.value === %q`, id, id))
}

// pollPage evaluates an async JavaScript function in the page until it
// returns "", for at most 20 s, and returns its last answer.
func pollPage(t *testing.T, b *browser, fn string) string {
	t.Helper()
	return run(t, b, chromedp.Evaluate[string](fmt.Sprintf(`(async () => {
		const check = %s;
		let last = "";
		for (const end = Date.now() + 20000; Date.now() < end; await new Promise(r => setTimeout(r, 250))) {
			last = await check();
			if (last === "") return "";
		}
		return last;
	})()`, fn), chromedp.EvalAwaitPromise))
}

// jsJSON is v as a JavaScript literal.
func jsJSON(t *testing.T, v any) string {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// namedSandbox is a host's fail2ban with the panel's id of the host.
type namedSandbox struct {
	id string
	sb *sandbox.Sandbox
}

func (b *browser) localSandbox() namedSandbox { return namedSandbox{"local", b.app.sandbox} }

// deviceSandboxes are the sandboxes of the device's own agents.
func (b *browser) deviceSandboxes() []namedSandbox {
	var out []namedSandbox
	for _, h := range b.app.fleet {
		out = append(out, namedSandbox{h.id, h.sb})
	}
	return out
}

// allSandboxes is the local sandbox and every fleet host's, the other
// device's too: a ban on one host must reach none of them.
func (b *browser) allSandboxes() []namedSandbox {
	out := []namedSandbox{b.localSandbox()}
	for _, h := range b.app.allFleet {
		out = append(out, namedSandbox{h.id, h.sb})
	}
	return out
}

// bannedIn asks a sandbox's fail2ban whether ip is banned in sshd.
func bannedIn(t *testing.T, sb *sandbox.Sandbox, ip string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	jails, err := sb.Client().JailsOf(ctx, ip)
	if err != nil {
		t.Fatalf("ask %s which jails ban %s: %v", sb.SocketPath, ip, err)
	}
	return len(jails) == 1 && slices.Contains(jails[0], "sshd")
}

// banIn bans ip in a sandbox's sshd jail through its own fail2ban client.
func banIn(t *testing.T, sb *sandbox.Sandbox, ip string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := sb.Client().Ban(ctx, "sshd", ip)
	if err != nil {
		t.Fatalf("ban %s on %s: %v", ip, sb.SocketPath, err)
	}
	return n == 1
}
