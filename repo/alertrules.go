package repo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// AlertRule is one row of alert_rules: what the alert evaluator watches
// for and where it sends what it notices.
type AlertRule struct {
	bun.BaseModel `bun:"table:alert_rules"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name,notnull"`
	Kind          string `bun:"kind,notnull"`
	Params        string `bun:"params,notnull"`   // the kind's settings, a JSON object
	ChannelsJSON  string `bun:"channels,notnull"` // a JSON list of alert_channels ids
	WaitSeconds   int64  `bun:"wait_seconds,notnull"`
	Enabled       bool   `bun:"enabled,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"`
	UpdatedAt     int64  `bun:"updated_at,notnull"`
}

// Channels are the ids of the channels the rule sends to.
func (r AlertRule) Channels() []int64 {
	var ids []int64
	_ = json.Unmarshal([]byte(r.ChannelsJSON), &ids) // stored by SetChannels: always a list
	return ids
}

// SetChannels sets the ids of the channels the rule sends to.
func (r *AlertRule) SetChannels(ids []int64) {
	if ids == nil {
		ids = []int64{}
	}
	b, _ := json.Marshal(ids) // a list of numbers always encodes
	r.ChannelsJSON = string(b)
}

// AlertRuleStore keeps the alert rules and answers the evaluator's
// questions about the archive and the audit log, each in one query.
type AlertRuleStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewAlertRuleStore returns a store on db.
func NewAlertRuleStore(db bun.IDB) *AlertRuleStore { return &AlertRuleStore{db: db, now: time.Now} }

// List returns every rule, by id.
func (s *AlertRuleStore) List(ctx context.Context) ([]AlertRule, error) {
	out := []AlertRule{}
	if err := s.db.NewSelect().Model(&out).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list alert rules: %w", dbError(err))
	}
	return out, nil
}

// Get returns one rule or ErrNotFound.
func (s *AlertRuleStore) Get(ctx context.Context, id int64) (AlertRule, error) {
	var r AlertRule
	if err := s.db.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx); err != nil {
		return AlertRule{}, fmt.Errorf("repo: alert rule %d: %w", id, dbError(err))
	}
	return r, nil
}

// Create stores a new rule, stamping its times, and returns its id.
func (s *AlertRuleStore) Create(ctx context.Context, r AlertRule) (int64, error) {
	r.ID, r.CreatedAt, r.UpdatedAt = 0, s.now().Unix(), s.now().Unix()
	if r.ChannelsJSON == "" {
		r.SetChannels(nil)
	}
	if _, err := s.db.NewInsert().Model(&r).Returning("id").Exec(ctx, &r.ID); err != nil {
		return 0, fmt.Errorf("repo: create alert rule %q: %w", r.Name, dbError(err))
	}
	return r.ID, nil
}

// Update stores r over the rule of its id (ErrNotFound when there is none).
func (s *AlertRuleStore) Update(ctx context.Context, r AlertRule) error {
	r.UpdatedAt = s.now().Unix()
	if r.ChannelsJSON == "" {
		r.SetChannels(nil)
	}
	res, err := s.db.NewUpdate().Model(&r).Column("name", "kind", "params", "channels", "wait_seconds", "enabled", "updated_at").
		WherePK().Exec(ctx)
	return ruleRowChanged(res, err, "update alert rule", r.ID)
}

// SetEnabled turns a rule on or off.
func (s *AlertRuleStore) SetEnabled(ctx context.Context, id int64, enabled bool) error {
	res, err := s.db.NewUpdate().Model((*AlertRule)(nil)).Set("enabled = ?", enabled).Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", id).Exec(ctx)
	return ruleRowChanged(res, err, "enable alert rule", id)
}

// Delete removes a rule.
func (s *AlertRuleStore) Delete(ctx context.Context, id int64) error {
	res, err := s.db.NewDelete().Model((*AlertRule)(nil)).Where("id = ?", id).Exec(ctx)
	return ruleRowChanged(res, err, "delete alert rule", id)
}

// ruleRowChanged turns a statement's result on one rule into its error:
// ErrNotFound when it changed no row.
func ruleRowChanged(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf("repo: %s %d: %w", what, id, dbError(err))
	}
	changed, err := affectedOne(res, what)
	if err == nil && !changed {
		err = fmt.Errorf("repo: %s %d: %w", what, id, ErrNotFound)
	}
	return err
}

// BanGroupCount is how many bans one group (a host and jail, a host, or
// all: the fields not grouped on are "") had.
type BanGroupCount struct {
	Host string `bun:"host"`
	Jail string `bun:"jail"`
	N    int64  `bun:"n"`
}

// BanCountsSince counts the archive's bans at or after since (unix
// seconds), grouped per "jail" (host and jail), per "host", or in "all",
// and returns the groups with more than over bans.
func (s *AlertRuleStore) BanCountsSince(ctx context.Context, since, over int64, per string) ([]BanGroupCount, error) {
	out := []BanGroupCount{}
	q := s.db.NewSelect().TableExpr("history_archive").ColumnExpr("COUNT(*) AS n").
		Where("action = ?", ActionBan).Where("timeofban >= ?", since).Having("COUNT(*) > ?", over)
	switch per {
	case "jail":
		q = q.ColumnExpr("host, jail").GroupExpr("host, jail").OrderExpr("host, jail")
	case "host":
		q = q.ColumnExpr("host").GroupExpr("host").OrderExpr("host")
	}
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("repo: ban counts: %w", dbError(err))
	}
	return out, nil
}

// NewCountry is a country whose first ban in a while the archive holds.
type NewCountry struct {
	Country string `bun:"country"`
	Bans    int64  `bun:"n"`
	IP      string `bun:"ip"` // one of the banned addresses
}

// NewCountriesSince returns the countries banned at or after since that
// had no ban in [seenSince, since).
func (s *AlertRuleStore) NewCountriesSince(ctx context.Context, since, seenSince int64) ([]NewCountry, error) {
	out := []NewCountry{}
	err := s.db.NewSelect().TableExpr("history_archive AS a").
		ColumnExpr("a.country_code AS country, COUNT(*) AS n, MIN(a.ip) AS ip").
		Where("a.action = ?", ActionBan).Where("a.timeofban >= ?", since).
		Where("a.country_code IS NOT NULL").Where("a.country_code <> ''").
		Where("NOT EXISTS (SELECT 1 FROM history_archive AS b WHERE b.country_code = a.country_code AND b.action = ? AND b.timeofban >= ? AND b.timeofban < ?)",
			ActionBan, seenSince, since).
		GroupExpr("a.country_code").OrderExpr("a.country_code").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("repo: new countries: %w", dbError(err))
	}
	return out, nil
}

// AuditAfter returns the audit entries of the given actions with an id
// above after, oldest first, at most limit of them.
func (s *AlertRuleStore) AuditAfter(ctx context.Context, after int64, actions []models.AuditAction, limit int) ([]models.AuditEntry, error) {
	var rows []auditRow
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = string(a)
	}
	err := s.db.NewSelect().Model(&rows).Where("id > ?", after).Where("action IN (?)", bun.In(names)).
		OrderExpr("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: audit entries after %d: %w", after, dbError(err))
	}
	return entriesOf(rows), nil
}

// LastAuditID is the highest id of the audit log, 0 when it is empty.
func (s *AlertRuleStore) LastAuditID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.NewSelect().TableExpr("audit_log").ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("repo: last audit id: %w", dbError(err))
	}
	return id, nil
}

// BannedAddress is an address the archive holds a ban of.
type BannedAddress struct {
	Host string `bun:"host"`
	Jail string `bun:"jail"`
	IP   string `bun:"ip"`
}

// BannedSince returns the distinct addresses banned at or after since
// (unix seconds), per host and jail, at most limit of them.
func (s *AlertRuleStore) BannedSince(ctx context.Context, since int64, limit int) ([]BannedAddress, error) {
	out := []BannedAddress{}
	err := s.db.NewSelect().TableExpr("history_archive").ColumnExpr("DISTINCT host, jail, ip").
		Where("action = ?", ActionBan).Where("timeofban >= ?", since).OrderExpr("host, jail, ip").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("repo: banned addresses: %w", dbError(err))
	}
	return out, nil
}

// BanDigest sums up the archive's bans of a period.
type BanDigest struct {
	Bans         int64
	TopCountries []BanGroupCount // Host holds the country code
	TopJails     []BanGroupCount
	NewOffenders int64 // addresses banned in the period and never before it
}

// Digest sums up the bans in [from, to) (unix seconds) with the top
// entries of each list.
func (s *AlertRuleStore) Digest(ctx context.Context, from, to int64, top int) (BanDigest, error) {
	var d BanDigest
	bans := func() *bun.SelectQuery {
		return s.db.NewSelect().TableExpr("history_archive").Where("action = ?", ActionBan).
			Where("timeofban >= ?", from).Where("timeofban < ?", to)
	}
	err := bans().ColumnExpr("COUNT(*)").Scan(ctx, &d.Bans)
	if err == nil {
		d.TopCountries = []BanGroupCount{}
		err = bans().ColumnExpr("COALESCE(country_code, '') AS host, COUNT(*) AS n").GroupExpr("COALESCE(country_code, '')").
			OrderExpr("n DESC, host").Limit(int64(top)).Scan(ctx, &d.TopCountries)
	}
	if err == nil {
		d.TopJails = []BanGroupCount{}
		err = bans().ColumnExpr("jail, COUNT(*) AS n").GroupExpr("jail").OrderExpr("n DESC, jail").Limit(int64(top)).Scan(ctx, &d.TopJails)
	}
	if err == nil {
		err = s.db.NewSelect().TableExpr("(?) AS p", bans().ColumnExpr("DISTINCT ip")).ColumnExpr("COUNT(*)").
			Where("NOT EXISTS (SELECT 1 FROM history_archive AS b WHERE b.ip = p.ip AND b.action = ? AND b.timeofban < ?)", ActionBan, from).
			Scan(ctx, &d.NewOffenders)
	}
	if err != nil {
		return BanDigest{}, fmt.Errorf("repo: ban digest: %w", dbError(err))
	}
	return d, nil
}
