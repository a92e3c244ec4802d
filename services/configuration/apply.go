package configuration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
)

// ErrOffline means a change was refused because fail2ban did not
// answer: BanGUI only changes the configuration when it can check the
// result.
var ErrOffline = errors.New("fail2ban is not answering; BanGUI changes its configuration only while it can test and reload it")

// change is one edit of one .local file and what applying it involves.
type change struct {
	file        string                           // editable path, relative to the configuration directory
	edit        func(old []byte) ([]byte, error) // the new content from the current one (nil when missing)
	stack       string                           // stack to check before writing ("jail", "filter.d/x"); "" for none
	precheck    func(s *f2bconf.Set) error       // checks on the merged result before writing
	filterCheck string                           // filter to load with fail2ban-regex after the test
	reload      []string                         // jails to reload after the test, in order
	reloadOf    func() []string                  // sets reload once edit has run, when set
	expect      func(s *f2bconf.Set) map[string]bool
	apply       func(ctx context.Context) error // runtime changes instead of (or besides) reloads
	undo        func(ctx context.Context) error // reverts apply during a rollback
	verify      func(ctx context.Context) error // checks after the reload
	offlineOK   bool                            // write and test even when fail2ban does not answer
}

// applyTimeout bounds one whole apply, rollback included. The work
// continues when the browser goes away: a half-applied change is worse
// than a late answer.
const applyTimeout = 3 * time.Minute

// apply writes a change and makes fail2ban use it: test the whole
// configuration with fail2ban-client -t, reload the affected jails and check
// them. When a step fails the previous file is restored, the jails are
// reloaded again and the result says what failed and whether the rollback
// worked. Input problems are returned as errors before anything is written.
func (c *Service) apply(ctx context.Context, h hosts.Host, ch change) (models.ApplyResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	res := models.ApplyResult{File: ch.file}
	if !ch.offlineOK {
		if err := h.Ping(ctx); err != nil {
			c.probe.Observe(h.ID(), err)
			return res, fmt.Errorf("%w (%v)", ErrOffline, err)
		}
	}
	unlock, err := c.lock(ctx, h)
	if err != nil {
		return res, err
	}
	defer unlock()

	cur, err := h.ReadConfigFile(ctx, ch.file)
	if err != nil {
		return res, err
	}
	old := cur.Data
	data, err := ch.edit(old)
	if err != nil {
		return res, err
	}
	if ch.reloadOf != nil {
		ch.reload = ch.reloadOf()
	}
	if cur.Exists && bytes.Equal(data, old) {
		return res, nil
	}
	if ch.precheck != nil {
		s, err := c.load(ctx, h, ch.stack, map[string][]byte{ch.file: data})
		if err != nil {
			return res, err
		}
		if err := ch.precheck(s); err != nil {
			return res, err
		}
	}
	var expect map[string]bool
	if ch.expect != nil {
		s, err := c.load(ctx, h, "jail", map[string][]byte{ch.file: data})
		if err != nil {
			return res, err
		}
		expect = ch.expect(s)
	}
	before, _ := c.running(ctx, h)

	prev, err := h.WriteConfigFile(ctx, ch.file, data)
	if err != nil {
		return res, fmt.Errorf("write %s: %w", ch.file, err)
	}
	res.Changed = true
	if prev.Existed {
		res.Steps = append(res.Steps, fmt.Sprintf("Wrote %s; the previous version is kept as %s%s.", ch.file, ch.file, f2bconf.BackupSuffix))
	} else {
		res.Steps = append(res.Steps, "Created "+ch.file+".")
	}
	var attempted []string
	// fail rolls back for reason; said is the part of it in fail2ban's
	// own words (a Raw text), if any.
	fail := func(reason, said lang.Message) (models.ApplyResult, error) {
		res.Output = rawText(said)
		c.rollback(ctx, h, &res, prev, ch, attempted, before, reason)
		return res, nil
	}
	if _, err := h.TestConfig(ctx); err != nil {
		said := failureReason(err)
		return fail(lang.M("cfg.apply_test_failed", "Reason", said), said)
	}
	res.Steps = append(res.Steps, "fail2ban's configuration test passed.")
	if ch.filterCheck != "" {
		if err := h.CheckFilter(ctx, ch.filterCheck); err != nil {
			said := failureReason(err)
			return fail(lang.M("cfg.apply_filter_failed", "Filter", ch.filterCheck, "Reason", said), said)
		}
		res.Steps = append(res.Steps, "fail2ban-regex loaded the filter "+ch.filterCheck+".")
	}
	if ch.apply != nil {
		if err := ch.apply(ctx); err != nil {
			said := failureReason(err)
			return fail(said, said)
		}
	}
	if len(ch.reload) > 0 && c.Preserver != nil {
		c.Preserver.BeforeUnban(ctx, h.ID())
	}
	for _, j := range ch.reload {
		attempted = append(attempted, j)
		if _, err := h.Reload(ctx, j); err != nil {
			said := failureReason(err)
			return fail(lang.M("cfg.apply_reload_failed", "Jail", j, "Reason", said), said)
		}
		res.Reloaded = append(res.Reloaded, j)
	}
	if len(ch.reload) > 0 {
		res.Steps = append(res.Steps, "Reloaded "+strings.Join(ch.reload, ", ")+".")
		now, off := c.running(ctx, h)
		if !off.IsZero() {
			return fail(lang.M("cfg.apply_no_answer"), lang.Message{})
		}
		for _, j := range ch.reload {
			want, ok := expect[j]
			if !ok {
				want = true
			}
			if got := slices.Contains(now, j); got != want {
				if want {
					return fail(lang.M("cfg.apply_jail_stopped", "Jail", j), lang.Message{})
				}
				return fail(lang.M("cfg.apply_jail_still_running", "Jail", j), lang.Message{})
			}
		}
	}
	if ch.verify != nil {
		if err := ch.verify(ctx); err != nil {
			return fail(messageOf(err), lang.Message{})
		}
		res.Verified = true
		res.Steps = append(res.Steps, "fail2ban runs with the new values.")
	}
	res.OK = true
	c.probe.RefreshHost(ctx, h.ID())
	return res, nil
}

// lock takes a host's configuration edit lock, waiting at most LockWait.
func (c *Service) lock(ctx context.Context, h hosts.Host) (func(), error) {
	lockCtx, cancel := context.WithTimeout(ctx, c.opts.LockWait)
	defer cancel()
	return h.LockConfig(lockCtx)
}

// rollback restores the previous file, undoes runtime changes and reloads
// the jails that were touched, then checks that the jails that ran before
// run again.
func (c *Service) rollback(ctx context.Context, h hosts.Host, res *models.ApplyResult, prev hosts.Replaced, ch change,
	attempted, before []string, reason lang.Message) {
	res.Failure = reason
	var problems []lang.Message
	if err := prev.Restore(ctx); err != nil {
		problems = append(problems, lang.M("cfg.rollback_restore_failed", "File", ch.file, "Error", err))
	} else if prev.Existed {
		res.Steps = append(res.Steps, "Restored "+ch.file+" to its previous version.")
	} else {
		res.Steps = append(res.Steps, "Removed "+ch.file+" again.")
	}
	if ch.undo != nil {
		if err := ch.undo(ctx); err != nil {
			problems = append(problems, lang.M("cfg.rollback_undo_failed", "Reason", failureReason(err)))
		} else {
			res.Steps = append(res.Steps, "Put the previous values back.")
		}
	}
	for _, j := range attempted {
		if _, err := h.Reload(ctx, j); err != nil {
			problems = append(problems, lang.M("cfg.rollback_reload_failed", "Jail", j, "Reason", failureReason(err)))
		} else {
			res.Restored = append(res.Restored, j)
			res.Steps = append(res.Steps, "Reloaded "+j+" with the previous configuration.")
		}
	}
	if len(attempted) > 0 {
		now, off := c.running(ctx, h)
		for _, j := range attempted {
			switch {
			case !off.IsZero():
				problems = append(problems, lang.M("cfg.rollback_no_answer"))
			case slices.Contains(before, j) && !slices.Contains(now, j):
				problems = append(problems, lang.M("cfg.rollback_jail_stopped", "Jail", j))
			}
		}
	}
	res.RollbackFailure = joinMessages(slices.CompactFunc(problems, func(a, b lang.Message) bool { return a.Error() == b.Error() }))
	res.RolledBack = res.RollbackFailure.IsZero()
	c.probe.RefreshHost(ctx, h.ID())
}

var (
	logPrefixRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \S+\s+\[\d+\]:\s+(\w+)\s+(.*)$`)
	compileRE   = regexp.MustCompile(`(?s)Unable to compile regular expression '.*?':\s*\n?\s*(.+)`)
)

// joinMessages is the messages one after the other, separated by
// semicolons; the zero Message for none.
func joinMessages(ms []lang.Message) lang.Message {
	if len(ms) == 0 {
		return lang.Message{}
	}
	out := ms[len(ms)-1]
	for i := len(ms) - 2; i >= 0; i-- {
		out = lang.M("cfg.semicolon_list", "First", ms[i], "Rest", out)
	}
	return out
}

// failureReason extracts what fail2ban said from a failed run, without
// its log prefixes, warnings and the long expanded patterns: fail2ban's
// words as a Raw text, or BanGUI's message when it said nothing.
func failureReason(err error) lang.Message {
	var re *fail2ban.RunError
	if !errors.As(err, &re) {
		var rx *fail2ban.RegexError
		if errors.As(err, &rx) {
			return rx.Message
		}
		return messageOf(err)
	}
	if re.TimedOut {
		return lang.M("cfg.apply_client_timeout")
	}
	var plain, logged []string
	for _, l := range strings.Split(re.Output, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if m := logPrefixRE.FindStringSubmatch(l); m != nil {
			if m[1] == "ERROR" || m[1] == "CRITICAL" {
				msg := strings.TrimSpace(m[2])
				if msg != "ERROR: test configuration failed" {
					logged = append(logged, msg)
				}
			}
			continue
		}
		plain = append(plain, l)
	}
	text := strings.Join(plain, "\n")
	if text == "" {
		text = strings.Join(logged, "\n")
	}
	if text == "" {
		text = re.Err.Error()
	}
	if m := compileRE.FindStringSubmatch(text); m != nil {
		first, _, _ := strings.Cut(m[1], "\n")
		text = "Unable to compile regular expression: " + strings.TrimRight(strings.TrimSpace(first), `"')`)
	}
	text = strings.ReplaceAll(text, "\n", " ")
	if r := []rune(text); len(r) > 400 {
		text = string(r[:400]) + "…"
	}
	return lang.Raw(text)
}
