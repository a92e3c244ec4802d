package rules

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"bangui/hosts"
)

// failEvery is how often the watch rules read the failures fail2ban found.
const failEvery = 30 * time.Second

// failReadWithin bounds one reading of the hosts' logs.
const failReadWithin = 5 * time.Second

// failLines is how many of the last "Found" lines of each host's fail2ban
// log one check reads.
const failLines = 2000

// Failure is one failure fail2ban found: a line "[jail] Found ip" of its
// log. Line is the whole line, which tells one failure from another.
type Failure struct {
	Host, Jail, IP, Line string
}

// FailureSource reads the failures fail2ban found lately, on every host.
type FailureSource interface {
	RecentFailures(ctx context.Context) ([]Failure, error)
}

// foundRE reads fail2ban's log line of a failure its filter matched, e.g.
// "2026-12-07 01:02:03,456 fail2ban.filter [12]: INFO [sshd] Found 192.0.2.1 - 2026-12-07 01:02:03".
var foundRE = regexp.MustCompile(`\[([^\]\s]+)\]\s+Found\s+(\S+)`)

// HostLogs reads failures from the fail2ban log file of each host (its log
// target, as the log viewer reads it: one tail per host, inside the
// host's allowed log folders). A host logging elsewhere (syslog, the
// journal) or not answering has no failures to tell.
type HostLogs struct{ Hosts *hosts.Registry }

// RecentFailures returns the failures in the last lines of each host's log.
func (h HostLogs) RecentFailures(ctx context.Context) ([]Failure, error) {
	var out []Failure
	var errs []string
	for _, host := range h.Hosts.All() {
		target, err := host.LogTarget(ctx)
		if err != nil || !strings.HasPrefix(target, "/") {
			continue // not answering, or not logging to a file
		}
		tail, err := host.TailLog(ctx, target, failLines, "] Found ")
		if err != nil {
			errs = append(errs, host.ID()+": "+err.Error())
			continue
		}
		out = append(out, parseFailures(host.ID(), tail.Lines)...)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("fail2ban logs: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// parseFailures reads the failures among lines of host's log.
func parseFailures(host string, lines []string) []Failure {
	var out []Failure
	for _, l := range lines {
		if m := foundRE.FindStringSubmatch(l); m != nil {
			out = append(out, Failure{Host: host, Jail: m[1], IP: m[2], Line: l})
		}
	}
	return out
}

// CheckFailures tells the watch rules of failures of watched addresses
// that fail2ban found since the last check. The first check only learns
// what the logs already hold: old failures are no news.
func (e *Evaluator) CheckFailures(ctx context.Context) {
	if e.Failures == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rules := e.enabled(ctx, KindWatch)
	if len(rules) == 0 {
		e.failLines = nil // a rule added later starts from what the logs hold then
		return
	}
	readCtx, cancel := context.WithTimeout(ctx, failReadWithin) // the rules' other events wait meanwhile
	found, err := e.Failures.RecentFailures(readCtx)
	cancel()
	if err != nil {
		e.log().Debug("alert rules: failures", "err", err)
	}
	first := e.failLines == nil
	if first {
		e.failLines = map[string]map[string]bool{}
	}
	read := map[string]map[string]bool{} // host → its lines read now
	fresh := map[Failure]int{}           // per host, jail and address (Line empty): how many new
	for _, f := range found {
		if read[f.Host] == nil {
			read[f.Host] = map[string]bool{}
		}
		read[f.Host][f.Line] = true
		if !first && !e.failLines[f.Host][f.Line] {
			fresh[Failure{Host: f.Host, Jail: f.Jail, IP: f.IP}]++
		}
	}
	// A host's lines are those of its last reading (lines that left the
	// tail cannot come back); a host not read now keeps its last ones.
	maps.Copy(e.failLines, read)
	now := e.now()
	for _, r := range rules {
		for _, w := range r.Params.Addresses {
			pfx, err := parseWatched(w)
			if err != nil {
				continue
			}
			for f, n := range fresh {
				if !within(pfx, f.IP) {
					continue
				}
				mem := fmt.Sprintf("%d/watch-failing/%s/%s/%s", r.ID, f.Host, f.Jail, f.IP)
				if _, ok := e.seen[mem]; ok {
					continue // told within the hour
				}
				e.seen[mem] = now
				e.send(ctx, r, "watch/"+strings.TrimSpace(w), "Watched address "+f.IP+" failing",
					fmt.Sprintf("%s (watched: %s) failed %d times in jail %s on %s.", f.IP, w, n, f.Jail, f.Host))
			}
		}
	}
	e.forget(now)
}

// within reports whether the address or range ip lies inside pfx.
func within(pfx netip.Prefix, ip string) bool {
	p, err := parseWatched(ip)
	return err == nil && pfx.Overlaps(p) && p.Bits() >= pfx.Bits()
}
