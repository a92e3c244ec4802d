// Package allowlist is the use case behind the allow-list page: the
// addresses, ranges and DNS names fail2ban must never ban on a host, kept
// in the panel's database (with note, author and expiry), written to one
// BanGUI-owned .local file through the configuration pipeline and applied
// to the running jails at once.
package allowlist

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/services/configuration"
)

// File is the .local file BanGUI writes the allow-list to. jail.d/*.local
// files are read last and in name order, so the "zz-" keeps the entries on
// top of the files an administrator writes.
const File = "jail.d/zz-bangui-allow.local"

// MaxEntries is the most entries BanGUI keeps on one host's allow-list.
const MaxEntries = 10000

// MaxNote is the longest note, in characters.
const MaxNote = 500

// ErrTooMany is returned when a change would take a host's allow-list
// above MaxEntries; nothing is written then.
var ErrTooMany error = tooMany{}

// tooMany is ErrTooMany: its message is for the page (lang.Of finds it).
type tooMany struct{}

func (tooMany) Error() string { return tooMany{}.Unwrap().Error() }

// Unwrap is the message, for lang.Of.
func (tooMany) Unwrap() error { return lang.M("bans.allow_too_many", "Max", MaxEntries) }

// Store keeps the entries BanGUI wrote (*repo.AllowStore has it).
type Store interface {
	List(ctx context.Context, host string) ([]models.AllowEntry, error)
	Save(ctx context.Context, entries []models.AllowEntry) error
	Delete(ctx context.Context, host string, ids []int64) (int64, error)
	Restore(ctx context.Context, host string, before []models.AllowEntry) error
	Expired(ctx context.Context, now int64) ([]string, error)
}

// Unbanner lifts bans, archiving their evidence first (*services.Jails).
type Unbanner interface {
	Unban(ctx context.Context, host, jail string, targets []string) (int, error)
}

// AuditRecorder appends audit entries (repo.AuditLog has it).
type AuditRecorder interface {
	Record(ctx context.Context, e models.AuditEntry) error
}

// AllowList is the allow-list use case. Every method acts on the host
// with the given id, local or remote.
type AllowList struct {
	// Audit, when set, records the entries the expiry job removes (the
	// handlers record what users do).
	Audit AuditRecorder

	hosts  *hosts.Registry
	config *configuration.Service
	store  Store
	jails  Unbanner
	now    func() time.Time

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per host: one change at a time in this process
}

// New wires the allow-list use case.
func New(reg *hosts.Registry, config *configuration.Service, store Store, jails Unbanner) *AllowList {
	return &AllowList{hosts: reg, config: config, store: store, jails: jails, now: time.Now, locks: map[string]*sync.Mutex{}}
}

// BusyNote is the sentence results carry when a change waited for
// another change of the same host's allow-list.
var BusyNote = lang.M("bans.allow_busy")

// withNote is msg followed by the sentence note.
func withNote(msg, note lang.Message) lang.Message {
	return lang.M("bans.text_and_note", "Text", msg, "Note", note)
}

// lock serializes the changes of one host in this process (the
// configuration lock serializes them across processes) and reports
// whether it had to wait.
func (a *AllowList) lock(host string) (unlock func(), waited bool) {
	a.mu.Lock()
	m := a.locks[host]
	if m == nil {
		m = &sync.Mutex{}
		a.locks[host] = m
	}
	a.mu.Unlock()
	if !m.TryLock() {
		waited = true
		m.Lock()
	}
	return m.Unlock, waited
}

// Allow adds entries to a host's allow-list: every valid request is
// written in one change of File (tested with fail2ban-client -t, rolled
// back on failure), applied to the running jails, and unbanned where it is
// banned in a jail it covers. An address the host has already replaces
// that entry. Results follow reqs; the error is for the batch as a whole
// (unknown host, fail2ban offline, ErrTooMany, a failed test).
func (a *AllowList) Allow(ctx context.Context, host string, reqs []models.AllowRequest) ([]models.AddressResult, error) {
	h, err := a.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	if len(reqs) > MaxEntries {
		return nil, ErrTooMany
	}
	now := a.now()
	results := make([]models.AddressResult, len(reqs))
	wanted := make([]models.AllowEntry, 0, len(reqs))
	at := make([]int, 0, len(reqs)) // index in reqs of each wanted entry
	seen := map[string]int{}
	for i, r := range reqs {
		results[i].Address = strings.TrimSpace(r.Address)
		e, msg := entryOf(host, r, services.ActorOf(ctx), now)
		if !msg.IsZero() {
			results[i].Message = msg
			continue
		}
		results[i].Address = e.Address
		if first, dup := seen[e.Address]; dup {
			results[i].Message = lang.M("bans.allow_twice", "Address", e.Address, "Line", first+1)
			continue
		}
		seen[e.Address] = i
		wanted = append(wanted, e)
		at = append(at, i)
	}
	if len(wanted) == 0 {
		return results, nil
	}
	unlock, waited := a.lock(host)
	defer unlock()

	added := map[string]bool{}
	ch, err := a.change(ctx, h, func(base *f2bconf.Set, cur []models.AllowEntry) ([]models.AllowEntry, error) {
		jails := jailNames(base)
		next := slices.Clone(cur)
		index := make(map[string]int, len(next))
		for i, o := range next {
			index[o.Address] = i
		}
		for k, e := range wanted {
			if bad := unknownJails(e.JailList(), jails); len(bad) > 0 {
				results[at[k]].Message = lang.M("bans.allow_no_jail", "Jails", strings.Join(bad, ", "))
				continue
			}
			if j, ok := index[e.Address]; ok {
				e.ID = next[j].ID
				next[j] = e
			} else {
				next = append(next, e)
			}
			added[e.Address] = true
		}
		if len(next) > MaxEntries {
			return nil, ErrTooMany
		}
		return next, nil
	})
	if err != nil {
		return results, err
	}
	if !ch.res.OK {
		return results, &ApplyError{Result: ch.res}
	}
	unbanned := a.unbanCovered(ctx, h, ch.after, added)
	for k, e := range wanted {
		r := &results[at[k]]
		if !added[e.Address] {
			continue
		}
		r.OK = true
		r.Message = allowedMessage(e, ch, unbanned[e.Address])
		if waited {
			r.Message = withNote(r.Message, BusyNote)
		}
	}
	return results, nil
}

// Remove takes entries BanGUI wrote off a host's allow-list, from File and
// the running jails. Results follow ids.
func (a *AllowList) Remove(ctx context.Context, host string, ids []int64) ([]models.AddressResult, error) {
	h, err := a.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	unlock, waited := a.lock(host)
	defer unlock()
	results := make([]models.AddressResult, len(ids))
	ch, err := a.change(ctx, h, func(_ *f2bconf.Set, cur []models.AllowEntry) ([]models.AllowEntry, error) {
		for i, id := range ids {
			j := slices.IndexFunc(cur, func(e models.AllowEntry) bool { return e.ID == id })
			if j < 0 {
				results[i].Message = lang.M("bans.allow_no_entry")
				continue
			}
			results[i].Address = cur[j].Address
		}
		return slices.DeleteFunc(slices.Clone(cur), func(e models.AllowEntry) bool { return slices.Contains(ids, e.ID) }), nil
	})
	if err != nil {
		return results, err
	}
	if !ch.res.OK {
		return results, &ApplyError{Result: ch.res}
	}
	for i := range results {
		if results[i].Address == "" {
			continue
		}
		results[i].OK = true
		results[i].Message = lang.M("bans.allow_removed", "Address", results[i].Address, "File", File)
		if waited {
			results[i].Message = withNote(results[i].Message, BusyNote)
		}
	}
	return results, nil
}

// ApplyError is a change that fail2ban refused (its configuration test, a
// reload, the live update): the file was put back. Its message is meant
// for the page.
type ApplyError struct{ Result models.ApplyResult }

// Error implements error.
func (e *ApplyError) Error() string { return e.Unwrap().Error() }

// Unwrap is the message for the page, for lang.Of.
func (e *ApplyError) Unwrap() error {
	if !e.Result.RollbackFailure.IsZero() {
		return lang.M("bans.allow_not_changed_rollback", "Failure", e.Result.Failure, "Rollback", e.Result.RollbackFailure)
	}
	return lang.M("bans.allow_not_changed", "Failure", e.Result.Failure)
}

// entryOf checks one request and returns its entry, or what is wrong.
func entryOf(host string, r models.AllowRequest, actor string, now time.Time) (models.AllowEntry, lang.Message) {
	addr, err := fail2ban.ParseIgnoreEntry(r.Address)
	if err != nil {
		return models.AllowEntry{}, lang.Of(err)
	}
	jails := slices.Clone(r.Jails)
	for _, j := range jails {
		if err := fail2ban.ValidJailName(j); err != nil {
			return models.AllowEntry{}, lang.Of(err)
		}
	}
	slices.Sort(jails)
	jails = slices.Compact(jails)
	if !r.Expires.IsZero() && !r.Expires.After(now) {
		return models.AllowEntry{}, lang.M("bans.allow_past", "Time", r.Expires.UTC().Format("2006-01-02 15:04 MST"))
	}
	note, msg := cleanNote(r.Note)
	if !msg.IsZero() {
		return models.AllowEntry{}, msg
	}
	e := models.AllowEntry{Host: host, Address: addr, Jails: strings.Join(jails, " "), Note: note, CreatedBy: actor, CreatedAt: now.Unix()}
	if !r.Expires.IsZero() {
		// Whole seconds, rounded up: an entry never ends early.
		e.ExpiresAt = r.Expires.Add(time.Second - time.Nanosecond).Unix()
	}
	return e, lang.Message{}
}

// cleanNote is a note on one line, or why it is refused. Markup is kept as
// text: pages escape it.
func cleanNote(s string) (string, lang.Message) {
	if !utf8.ValidString(s) {
		return "", lang.M("bans.note_not_text")
	}
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", lang.M("bans.note_control")
	}
	if n := utf8.RuneCountInString(s); n > MaxNote {
		return "", lang.M("bans.note_too_long", "N", n, "Max", MaxNote)
	}
	return s, lang.Message{}
}

// allowedMessage says what adding e did: where it holds and until when,
// how it reached the running jails and where it was unbanned.
func allowedMessage(e models.AllowEntry, ch changed, unbanned []string) lang.Message {
	var where any = lang.M("bans.allow_scope_all")
	if jails := e.JailList(); len(jails) > 0 {
		where = strings.Join(jails, ", ")
	}
	head := lang.M("bans.allowed", "Address", e.Address, "Scope", where)
	if e.ExpiresAt > 0 {
		head = lang.M("bans.allowed_until", "Address", e.Address, "Scope", where, "Time", time.Unix(e.ExpiresAt, 0).UTC().Format("2006-01-02 15:04 MST"))
	}
	msg := lang.M("bans.allowed_written_live", "Head", head, "File", File)
	if isName(e.Address) {
		msg = lang.M("bans.allowed_written", "Head", head, "File", File)
		if len(ch.res.Reloaded) > 0 {
			msg = lang.M("bans.allowed_written_reloaded", "Head", head, "File", File, "Jails", strings.Join(ch.res.Reloaded, ", "))
		}
	}
	if len(unbanned) > 0 {
		msg = withNote(msg, lang.M("bans.allowed_unbanned", "Jails", strings.Join(unbanned, ", ")))
	}
	return msg
}

// jailNames are the jail sections of a jail configuration, without those
// whose names BanGUI does not write (fail2ban.ValidJailName refuses them).
func jailNames(s *f2bconf.Set) []string {
	var out []string
	for _, j := range s.Jails() {
		if fail2ban.ValidJailName(j.Name) == nil {
			out = append(out, j.Name)
		}
	}
	slices.Sort(out)
	return out
}

func unknownJails(want, have []string) []string {
	var bad []string
	for _, j := range want {
		if _, ok := slices.BinarySearch(have, j); !ok {
			bad = append(bad, j)
		}
	}
	return bad
}
