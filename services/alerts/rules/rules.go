// Package rules holds the alert rules (what to watch for, which channels
// to tell) and the evaluator that turns what the panel notices — archive
// syncs, status changes, blocklist imports, the audit log, a schedule —
// into alerts.Alert values for an alerts.Sink.
package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"bangui/lang"
	"bangui/repo"
)

// Kind is what a rule watches for.
type Kind string

// The kinds of rule.
const (
	KindSpike   Kind = "spike"   // more than Bans bans in Minutes minutes, Per jail, host or all
	KindCountry Kind = "country" // the first ban from a country not seen in the last Days days
	KindWatch   Kind = "watch"   // a watched address or range banned, or failing
	KindDown    Kind = "down"    // fail2ban down, and back up with the outage length
	KindImport  Kind = "import"  // a blocklist import failed, or (Zero) imported nothing
	KindConfig  Kind = "config"  // a configuration change or rollback (from the audit log)
	KindDigest  Kind = "digest"  // a daily or weekly digest at a time of the panel's zone
)

// Kinds are every kind, in the order the rules page offers them.
var Kinds = []Kind{KindSpike, KindCountry, KindWatch, KindDown, KindImport, KindConfig, KindDigest}

// Limits of what a rule may ask for.
const (
	MaxBans     = 1_000_000
	MaxMinutes  = 7 * 24 * 60
	MaxDays     = 3650
	MaxWait     = time.Hour
	MaxWatched  = 1000
	MaxNameLen  = 100
	MaxChannels = 50
	DefaultWait = time.Minute
)

// Params are a rule's settings; each kind reads its own.
type Params struct {
	Bans      int64    `json:"bans,omitempty"`      // spike: more than this many bans
	Minutes   int64    `json:"minutes,omitempty"`   // spike: within this many minutes
	Per       string   `json:"per,omitempty"`       // spike: "jail", "host" or "all"
	Days      int64    `json:"days,omitempty"`      // country: not seen in this many days
	Addresses []string `json:"addresses,omitempty"` // watch: addresses and ranges (CIDR)
	Host      string   `json:"host,omitempty"`      // down: one host id; "" every host
	Zero      bool     `json:"zero,omitempty"`      // import: also when a run imported nothing
	Every     string   `json:"every,omitempty"`     // digest: "daily" or "weekly"
	At        string   `json:"at,omitempty"`        // digest: "HH:MM" in the panel's time zone
	Weekday   int      `json:"weekday,omitempty"`   // digest, weekly: 0 Sunday … 6 Saturday
}

// Rule is one alert rule.
type Rule struct {
	ID       int64
	Name     string
	Kind     Kind
	Params   Params
	Channels []int64       // alert_channels ids
	Wait     time.Duration // the grouping window
	Enabled  bool
}

// ValidationError is a rule that cannot be stored, with the reason shown
// to the user (in the request's language: Msg.In).
type ValidationError struct{ Msg lang.Message }

// Error is the message in English.
func (e *ValidationError) Error() string { return e.Msg.Error() }

func invalid(m lang.Message) error { return &ValidationError{Msg: m} }

// WaitRefused is the refusal of a grouping wait out of range.
func WaitRefused() error {
	return invalid(lang.M("alerts.rule.wait_range", "Max", int(MaxWait/time.Second)))
}

// Validate refuses absurd or incomplete rules with a clear message.
func (r Rule) Validate() error {
	p := r.Params
	switch {
	case strings.TrimSpace(r.Name) == "":
		return invalid(lang.M("alerts.rule.name_missing"))
	case len(r.Name) > MaxNameLen:
		return invalid(lang.M("alerts.rule.name_long", "Max", MaxNameLen))
	case r.Wait < 0 || r.Wait > MaxWait:
		return WaitRefused()
	case len(r.Channels) > MaxChannels:
		return invalid(lang.M("alerts.rule.channels_many", "Max", MaxChannels))
	}
	for _, c := range r.Channels {
		if c <= 0 {
			return invalid(lang.M("alerts.rule.channel_missing", "ID", c))
		}
	}
	switch r.Kind {
	case KindSpike:
		switch {
		case p.Bans <= 0 || p.Bans > MaxBans:
			return invalid(lang.M("alerts.rule.bans_range", "Max", MaxBans))
		case p.Minutes <= 0 || p.Minutes > MaxMinutes:
			return invalid(lang.M("alerts.rule.minutes_range", "Max", MaxMinutes))
		case p.Per != "jail" && p.Per != "host" && p.Per != "all":
			return invalid(lang.M("alerts.rule.per"))
		}
	case KindCountry:
		if p.Days <= 0 || p.Days > MaxDays {
			return invalid(lang.M("alerts.rule.days_range", "Max", MaxDays))
		}
	case KindWatch:
		if len(p.Addresses) == 0 || len(p.Addresses) > MaxWatched {
			return invalid(lang.M("alerts.rule.watch_count", "Max", MaxWatched))
		}
		for _, a := range p.Addresses {
			if _, err := parseWatched(a); err != nil {
				return invalid(lang.M("alerts.rule.watch_address", "Address", a))
			}
		}
	case KindDown, KindImport, KindConfig:
	case KindDigest:
		if p.Every != "daily" && p.Every != "weekly" {
			return invalid(lang.M("alerts.rule.every"))
		}
		if _, _, err := parseClock(p.At); err != nil {
			return invalid(lang.M("alerts.rule.at"))
		}
		if p.Weekday < 0 || p.Weekday > 6 {
			return invalid(lang.M("alerts.rule.weekday"))
		}
	default:
		return invalid(lang.M("alerts.rule.unknown_kind", "Kind", string(r.Kind)))
	}
	return nil
}

// parseWatched reads an address (as a one-address range) or a CIDR range.
func parseWatched(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// parseClock reads "HH:MM".
func parseClock(s string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, 0, err
	}
	return t.Hour(), t.Minute(), nil
}

// ruleOfRow is a stored rule.
func ruleOfRow(row repo.AlertRule) (Rule, error) {
	r := Rule{ID: row.ID, Name: row.Name, Kind: Kind(row.Kind), Channels: row.Channels(),
		Wait: time.Duration(row.WaitSeconds) * time.Second, Enabled: row.Enabled}
	if err := json.Unmarshal([]byte(row.Params), &r.Params); err != nil {
		return r, fmt.Errorf("rules: rule %d: params: %w", row.ID, err)
	}
	return r, nil
}

// row is r as the table stores it.
func (r Rule) row() repo.AlertRule {
	params, _ := json.Marshal(r.Params) // plain fields always encode
	row := repo.AlertRule{ID: r.ID, Name: strings.TrimSpace(r.Name), Kind: string(r.Kind), Params: string(params),
		WaitSeconds: int64(r.Wait / time.Second), Enabled: r.Enabled}
	row.SetChannels(r.Channels)
	return row
}

// Service keeps the rules: it validates them before they are stored.
type Service struct{ store *repo.AlertRuleStore }

// NewService returns the rules kept in store.
func NewService(store *repo.AlertRuleStore) *Service { return &Service{store: store} }

// List returns every rule, by id; a rule whose stored params cannot be
// read comes back with empty params.
func (s *Service) List(ctx context.Context) ([]Rule, error) {
	rows, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rows))
	for _, row := range rows {
		r, _ := ruleOfRow(row)
		out = append(out, r)
	}
	return out, nil
}

// Get returns one rule (repo.ErrNotFound when there is none).
func (s *Service) Get(ctx context.Context, id int64) (Rule, error) {
	row, err := s.store.Get(ctx, id)
	if err != nil {
		return Rule{}, err
	}
	return ruleOfRow(row)
}

// Save validates r and stores it: a new rule when its ID is 0 (the new
// id is returned), else over the rule of its ID.
func (s *Service) Save(ctx context.Context, r Rule) (int64, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	if r.ID == 0 {
		return s.store.Create(ctx, r.row())
	}
	return r.ID, s.store.Update(ctx, r.row())
}

// SetEnabled turns a rule on or off.
func (s *Service) SetEnabled(ctx context.Context, id int64, on bool) error {
	return s.store.SetEnabled(ctx, id, on)
}

// Delete removes a rule.
func (s *Service) Delete(ctx context.Context, id int64) error { return s.store.Delete(ctx, id) }

// IsValidation reports whether err is a rule refused by Validate.
func IsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}
