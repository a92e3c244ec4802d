package services

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
)

// TimedBans gives bans a time a user chose instead of their jail's ban
// time.
//
// Why the panel keeps the time: fail2ban 1.0.2 bans for the jail's ban
// time only. "set <jail> banip" carries no time (Actions.addBannedIP makes
// tickets with the jail's time); bantime.increment lengthens bans by an
// address's history, not by a choice; and after a restart fail2ban
// restores a ban from its database for at most the jail's ban time
// (Database.getCurrentBans cuts even a permanent row down to it). Only a
// jail whose own ban time is permanent would hold a long ban across
// fail2ban restarts by itself, and such a managed jail would block with
// its own actions (ports, chains), not those of the jail the user chose.
//
// So the ban lives in the jail the user chose, with its actions, and the
// panel holds it for the chosen time:
//   - the chosen end is a row of timed_bans in the panel's database, so it
//     survives restarts of the panel;
//   - Keep lifts each ban at its end through Jails.Unban, so fail2ban's
//     evidence is archived first and the archive records the unban;
//   - while the chosen end lies beyond the end fail2ban holds the ban to,
//     Keep bans the address again once half of that jail's ban time is
//     left: fail2ban then prolongs the ban it holds to now plus the jail's
//     ban time (BanManager.addBanTicket), without a new ban event or a new
//     run of the ban actions;
//   - a ban fail2ban no longer holds (a restart that did not restore it,
//     or it ran out while the panel was down) is banned again at the next
//     pass, at most MaxWait later;
//   - a chosen time shorter than the jail's ends early: Keep lifts it at
//     its end, even when fail2ban restored it after a restart;
//   - a ban lifted through the panel (Jails.Unban, UnbanAll) loses its
//     chosen time, before fail2ban is asked to unban (if that fails, the
//     ban ends with the jail's time); one lifted behind the panel's back
//     (fail2ban-client) is banned again until its end.
//
// Run repeats Keep, under a lease so that one panel process among those
// sharing the database does it, waking for the next end or renewal.
type TimedBans struct {
	// MaxWait is the longest pause between two passes of Keep: how soon a
	// ban that fail2ban dropped in a restart is banned again, and how soon
	// the lease holder sees a chosen time set in another panel process.
	MaxWait time.Duration

	hosts *hosts.Registry
	jails *Jails
	store TimedBanStore
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}
}

// TimedBanStore keeps the chosen times (*repo.TimedBans has it).
type TimedBanStore interface {
	Put(ctx context.Context, bans []models.TimedBan) error
	Delete(ctx context.Context, host, jail string, ips []string) (int64, error)
	All(ctx context.Context) ([]models.TimedBan, error)
	OfIPs(ctx context.Context, host string, ips []string) ([]models.TimedBan, error)
}

// Limits of a chosen ban time and its note.
const (
	MinTimedBan      = 10 * time.Second
	MaxTimedBan      = 10 * 365 * 24 * time.Hour
	MaxTimedBanNote  = 500
	DefaultTimedWait = 15 * time.Second
	// timedBansLease is the lease of Run's passes.
	timedBansLease = "timed-bans"
	// timedSettle is how long after a chosen time was stored a pass
	// leaves its address unbanned: BanFor bans right after storing.
	timedSettle = 5 * time.Second
	// timedRetry is how soon a pass that could not reach fail2ban or the
	// database tries again.
	timedRetry = 5 * time.Second
)

// NewTimedBans returns the timed bans of the hosts in reg, banning and
// unbanning through jails, and registers itself with jails (Jails.Timed),
// so that the ban tables show the chosen times and unbans forget them.
func NewTimedBans(reg *hosts.Registry, jails *Jails, store TimedBanStore, log *slog.Logger) *TimedBans {
	if log == nil {
		log = slog.Default()
	}
	t := &TimedBans{MaxWait: DefaultTimedWait, hosts: reg, jails: jails, store: store, log: log,
		now: time.Now, wake: make(chan struct{}, 1)}
	jails.Timed = t
	return t
}

// CheckBanDuration says why d cannot be a chosen ban time (0 is
// permanent), or nil. Its errors are *fail2ban.ValidationError.
func CheckBanDuration(d time.Duration) error {
	switch {
	case d < 0:
		return &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("bans.ban_time_negative")}
	case d > 0 && d < MinTimedBan:
		return &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("bans.ban_time_short", "Min", durationMessage(MinTimedBan))}
	case d > MaxTimedBan:
		return &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("bans.ban_time_long")}
	}
	return nil
}

// BanFor bans each address in its jail on host for its chosen time
// (Duration 0: permanent) and keeps the time (see TimedBans). Each
// request gets a result in the same order; a bad request fails alone, and
// the addresses of one jail are banned with one fail2ban call. The error
// is for a host the registry does not know.
func (t *TimedBans) BanFor(ctx context.Context, host string, reqs []models.TimedBanRequest) ([]models.AddressResult, error) {
	if _, err := t.hosts.Get(host); err != nil {
		return nil, err
	}
	out := make([]models.AddressResult, len(reqs))
	now := t.now()
	by := ActorOf(ctx)
	var order []string
	byJail := map[string][]int{}
	for i, r := range reqs {
		out[i].Address = r.Address
		ip, err := checkTimedBan(r)
		if err != nil {
			out[i].Message = lang.Of(err)
			continue
		}
		out[i].Address = ip
		if _, seen := byJail[r.Jail]; !seen {
			order = append(order, r.Jail)
		}
		byJail[r.Jail] = append(byJail[r.Jail], i)
	}
	for _, jail := range order {
		idx := byJail[jail]
		rows := make([]models.TimedBan, 0, len(idx))
		ips := make([]string, 0, len(idx))
		at := map[string]int{} // the last request of each address wins
		for _, i := range idx {
			r := reqs[i]
			row := models.TimedBan{Host: host, Jail: jail, IP: out[i].Address, Seconds: int64(r.Duration / time.Second),
				SetBy: by, Note: strings.TrimSpace(r.Note), CreatedAt: now.Unix()}
			if r.Duration > 0 {
				// Whole seconds, rounded up: the ban lasts at least as asked.
				row.EndsAt = now.Add(r.Duration + time.Second - time.Nanosecond).Unix()
			}
			if k, dup := at[row.IP]; dup {
				rows[k] = row
				continue
			}
			at[row.IP] = len(rows)
			rows = append(rows, row)
			ips = append(ips, row.IP)
		}
		fail := func(msg lang.Message) {
			for _, i := range idx {
				out[i].Message = msg
			}
		}
		// The time first: a pass of Keep between the two finds a chosen
		// time without its ban and bans it, which is what was asked.
		if err := t.store.Put(ctx, rows); err != nil {
			t.log.Warn("chosen ban times not stored", "host", host, "jail", jail, "err", err)
			fail(lang.M("bans.timed_not_stored"))
			continue
		}
		if _, err := t.jails.Ban(ctx, host, jail, ips); err != nil {
			if _, derr := t.store.Delete(ctx, host, jail, ips); derr != nil {
				t.log.Warn("chosen ban times of a failed ban not removed", "host", host, "jail", jail, "err", derr)
			}
			fail(banFailure(jail, err))
			continue
		}
		for _, i := range idx {
			row := rows[at[out[i].Address]]
			out[i].OK = true
			out[i].Message = timedBanDone(jail, row)
		}
	}
	t.Wake()
	return out, nil
}

// timedBanDone says that a ban of a chosen time was made: "banned in sshd
// for 7 d" or "banned in sshd permanently".
func timedBanDone(jail string, b models.TimedBan) lang.Message {
	if b.Permanent() {
		return lang.M("bans.timed_done_permanent", "Jail", jail)
	}
	return lang.M("bans.timed_done", "Jail", jail, "Duration", durationMessage(time.Duration(b.Seconds)*time.Second))
}

// durationMessage is d as textfmt.Duration writes it ("45 s", "1 h 30 min",
// "2 d 4 h"), in a language's units when it is shown.
func durationMessage(d time.Duration) lang.Message {
	if d < time.Minute {
		return lang.M("bans.dur_s", "N", int64(d/time.Second))
	}
	days, hours, mins := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours > 0:
		return lang.M("bans.dur_d_h", "D", days, "H", hours)
	case days > 0:
		return lang.M("bans.dur_d", "D", days)
	case hours > 0 && mins > 0:
		return lang.M("bans.dur_h_min", "H", hours, "Min", mins)
	case hours > 0:
		return lang.M("bans.dur_h", "H", hours)
	}
	return lang.M("bans.dur_min", "Min", mins)
}

// banFailure is the message of a ban fail2ban refused or could not take.
func banFailure(jail string, err error) lang.Message {
	if errors.Is(err, fail2ban.ErrUnknownJail) {
		return lang.M("bans.timed_no_jail", "Jail", jail)
	}
	return lang.M("bans.timed_not_banned", "Reason", err)
}

// checkTimedBan checks one request and returns its address normalized.
func checkTimedBan(r models.TimedBanRequest) (string, error) {
	if strings.TrimSpace(r.Address) == "" {
		return "", &fail2ban.ValidationError{Field: fail2ban.FieldIP, Message: lang.M("f2b.enter_target")}
	}
	norm, err := fail2ban.NormalizeTargets([]string{r.Address})
	if err != nil {
		return "", err
	}
	if err := fail2ban.ValidJailName(r.Jail); err != nil {
		return "", err
	}
	if err := CheckBanDuration(r.Duration); err != nil {
		return "", err
	}
	if n := len([]rune(strings.TrimSpace(r.Note))); n > MaxTimedBanNote {
		return "", &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("bans.timed_note_long", "N", n, "Max", MaxTimedBanNote)}
	}
	return norm[0], nil
}

// Wake makes Run pass at once (a new chosen time may end before its next
// pass).
func (t *TimedBans) Wake() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Run passes Keep until ctx ends, in the panel process holding the lease
// "timed-bans" (leases nil: always here), each time when the next chosen
// time ends or a ban is due for renewal, at most MaxWait apart.
func (t *TimedBans) Run(ctx context.Context, leases *Leases) {
	for {
		next := t.now().Add(t.MaxWait)
		leases.Turn(ctx, timedBansLease, 2*t.MaxWait, func(ctx context.Context) { next = t.Keep(ctx) })
		wait := min(max(next.Sub(t.now()), 50*time.Millisecond), t.MaxWait)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
