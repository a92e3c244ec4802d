// Package e2e holds BanGUI's browser tests. They drive Debian's Chromium
// through chromedp against the real stack: the bangui binary built with the
// e2etest tag, a private fail2ban-server (sandboxtest) and nginx as a TLS
// reverse proxy serving the panel under /bangui/.
//
// Run them with
//
//	go test ./e2e/ -count=1 -v
//
// They need the Debian packages chromium, chromium-driver, nginx and
// fail2ban; without them the tests are skipped, or fail when CI=true.
// Screenshots and logs go to $E2E_ARTIFACTS (default e2e/artifacts/).
//
// The fleet flow (fleet_flows_test.go, last on every device) adds three
// more fail2ban sandboxes, each with a `bangui agent` of the same binary
// (agent/agenttest): the desktop enrols two, the phone one. The panels
// sync their archive every 2 s so that the agents' history arrives while
// the flow waits.
//
// Add a flow by appending to deviceFlows in flows_test.go: it runs on every
// device, logged in, and gets checkPage's checks through browser.check.
package e2e
