package repo

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"bangui/models"
)

// AllowStore keeps the allow-list entries BanGUI wrote (allow_entries):
// what the allow-list file of each host is generated from, and the note,
// author and expiry of each entry.
type AllowStore struct{ db bun.IDB }

// NewAllowStore returns a store on db.
func NewAllowStore(db bun.IDB) *AllowStore { return &AllowStore{db: db} }

// List returns a host's entries, by address.
func (s *AllowStore) List(ctx context.Context, host string) ([]models.AllowEntry, error) {
	out := []models.AllowEntry{}
	if err := s.db.NewSelect().Model(&out).Where("host = ?", host).OrderExpr("address").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list allow-list of %s: %w", host, dbError(err))
	}
	return out, nil
}

// Save stores entries of one host in one transaction: an entry whose
// address the host has already replaces that row (scope, note, author,
// times), others are added. The IDs of entries are set.
func (s *AllowStore) Save(ctx context.Context, entries []models.AllowEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		for i := range entries {
			e := &entries[i]
			e.ID = 0
			_, err := tx.NewInsert().Model(e).
				On("CONFLICT (host, address) DO UPDATE").
				Set("jails = EXCLUDED.jails, note = EXCLUDED.note, created_by = EXCLUDED.created_by").
				Set("created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at").
				Returning("id").Exec(ctx, &e.ID)
			if err != nil {
				return fmt.Errorf("repo: save allow-list entry %s: %w", e.Address, dbError(err))
			}
		}
		return nil
	})
}

// Delete removes entries by id from one host and returns how many went.
func (s *AllowStore) Delete(ctx context.Context, host string, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.db.NewDelete().Model((*models.AllowEntry)(nil)).
		Where("host = ?", host).Where("id IN (?)", bun.In(ids)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: delete allow-list entries: %w", dbError(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Restore puts entries back as they were (their ids included), replacing
// rows of the same address: the undo of Save and Delete.
func (s *AllowStore) Restore(ctx context.Context, host string, before []models.AllowEntry) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.AllowEntry)(nil)).Where("host = ?", host).Exec(ctx); err != nil {
			return fmt.Errorf("repo: restore allow-list of %s: %w", host, dbError(err))
		}
		for _, e := range before {
			if _, err := tx.NewInsert().Model(&e).Exec(ctx); err != nil {
				return fmt.Errorf("repo: restore allow-list entry %s: %w", e.Address, dbError(err))
			}
		}
		return nil
	})
}

// Expired returns the hosts with entries whose expiry is at or before
// now (unix seconds), sorted.
func (s *AllowStore) Expired(ctx context.Context, now int64) ([]string, error) {
	var hosts []string
	err := s.db.NewSelect().Model((*models.AllowEntry)(nil)).ColumnExpr("DISTINCT host").
		Where("expires_at > 0 AND expires_at <= ?", now).OrderExpr("host").Scan(ctx, &hosts)
	if err != nil {
		return nil, fmt.Errorf("repo: expired allow-list entries: %w", dbError(err))
	}
	return hosts, nil
}
