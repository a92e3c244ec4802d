package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"bangui/models"
)

// SettingsStore keeps key/value settings in the settings table.
type SettingsStore struct {
	db bun.IDB
}

// NewSettingsStore returns a store on db (a *bun.DB or a transaction).
func NewSettingsStore(db bun.IDB) *SettingsStore {
	return &SettingsStore{db: db}
}

// Get returns a setting's value, or ErrNotFound.
func (s *SettingsStore) Get(ctx context.Context, key string) (string, error) {
	var row models.Setting
	if err := s.db.NewSelect().Model(&row).Where("key = ?", key).Scan(ctx); err != nil {
		return "", fmt.Errorf("repo: get setting %s: %w", key, dbError(err))
	}
	return row.Value, nil
}

// Set stores a setting, replacing any previous value.
func (s *SettingsStore) Set(ctx context.Context, key, value string) error {
	return s.SetMany(ctx, map[string]string{key: value})
}

// Delete removes a setting; removing an absent key is not an error.
func (s *SettingsStore) Delete(ctx context.Context, key string) error {
	if _, err := s.db.NewDelete().Model((*models.Setting)(nil)).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("repo: delete setting %s: %w", key, dbError(err))
	}
	return nil
}

// All returns every setting.
func (s *SettingsStore) All(ctx context.Context) (map[string]string, error) {
	var rows []models.Setting
	if err := s.db.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list settings: %w", dbError(err))
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Key] = r.Value
	}
	return out, nil
}

// SetMany stores several settings in one statement.
func (s *SettingsStore) SetMany(ctx context.Context, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	rows := make([]models.Setting, 0, len(values))
	for k, v := range values {
		rows = append(rows, models.Setting{Key: k, Value: v})
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (key) DO UPDATE").
		Set("value = EXCLUDED.value").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: save settings: %w", dbError(err))
	}
	return nil
}

// SetManyOnce stores values in one transaction unless the guard key is
// already set, and says whether it stored them: a first-run setup that two
// requests (or two panel processes) complete at once is stored once. On
// SQLite the transaction takes the write lock at its start (immediate
// transactions); on PostgreSQL it first takes a transaction-scoped
// advisory lock named after the guard, which the second transaction waits
// for and then finds the guard set.
func (s *SettingsStore) SetManyOnce(ctx context.Context, guard string, values map[string]string) (stored bool, err error) {
	err = inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if tx.Dialect().Name() == dialect.PG {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "bangui.settings."+guard); err != nil {
				return err
			}
		}
		st := NewSettingsStore(tx)
		if _, err := st.Get(ctx, guard); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		stored = true
		return st.SetMany(ctx, values)
	})
	if err != nil {
		return false, fmt.Errorf("repo: save settings: %w", err)
	}
	return stored, nil
}
