package services

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
)

// Bounds of the audit retention, in days.
const (
	MinAuditRetentionDays = 1
	MaxAuditRetentionDays = 36500
)

// AuditRetentionField is the form field of the retention.
const AuditRetentionField = "retention_days"

// AuditRetention keeps the audit log to the retention chosen in the
// panel's settings (models.DefaultAuditRetentionDays when none was).
type AuditRetention struct {
	Log      repo.AuditLog
	Settings repo.Settings
	Now      func() time.Time // nil: time.Now
}

// Days returns the retention in days.
func (r AuditRetention) Days(ctx context.Context) (int, error) {
	v, err := r.Settings.Get(ctx, models.SettingAuditRetentionDays)
	if errors.Is(err, repo.ErrNotFound) {
		return models.DefaultAuditRetentionDays, nil
	}
	if err != nil {
		return 0, err
	}
	if d, err := strconv.Atoi(v); err == nil && d >= MinAuditRetentionDays && d <= MaxAuditRetentionDays {
		return d, nil
	}
	return models.DefaultAuditRetentionDays, nil
}

// SetDays stores the retention from the form's text; a number out of
// bounds is a *ValidationError.
func (r AuditRetention) SetDays(ctx context.Context, raw string) (int, error) {
	d, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || d < MinAuditRetentionDays || d > MaxAuditRetentionDays {
		verr := &ValidationError{}
		verr.Add(AuditRetentionField, lang.M("acct.retention_days", "Min", MinAuditRetentionDays, "Max", MaxAuditRetentionDays))
		return 0, verr
	}
	if err := r.Settings.Set(ctx, models.SettingAuditRetentionDays, strconv.Itoa(d)); err != nil {
		return 0, err
	}
	return d, nil
}

// Prune deletes the entries older than the retention and returns how many
// went.
func (r AuditRetention) Prune(ctx context.Context) (int64, error) {
	days, err := r.Days(ctx)
	if err != nil {
		return 0, err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return r.Log.DeleteOlderThan(ctx, now().Add(-time.Duration(days)*24*time.Hour).Unix())
}
