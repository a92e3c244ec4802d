package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// GeoCacheStore keeps geo lookups in the geo_cache table. A row with a NULL
// country_code is a failed lookup.
type GeoCacheStore struct {
	db bun.IDB
}

// NewGeoCacheStore returns a store on db (a *bun.DB or a transaction).
func NewGeoCacheStore(db bun.IDB) *GeoCacheStore {
	return &GeoCacheStore{db: db}
}

// geoGetChunk addresses go into one IN (…) list.
const geoGetChunk = 500

// Get returns the rows of the given addresses; addresses without a row are
// simply absent.
func (s *GeoCacheStore) Get(ctx context.Context, ips []string) ([]models.GeoCacheEntry, error) {
	var out []models.GeoCacheEntry
	for start := 0; start < len(ips); start += geoGetChunk {
		var rows []models.GeoCacheEntry
		err := s.db.NewSelect().Model(&rows).
			Where("ip IN (?)", bun.List(ips[start:min(start+geoGetChunk, len(ips))])).
			Scan(ctx)
		if err != nil {
			return nil, fmt.Errorf("repo: geo cache get: %w", dbError(err))
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Unresolved returns every address whose lookup failed (NULL country).
func (s *GeoCacheStore) Unresolved(ctx context.Context) ([]string, error) {
	var ips []string
	err := s.db.NewSelect().Model((*models.GeoCacheEntry)(nil)).Column("ip").
		Where("country_code IS NULL").Order("ip").Scan(ctx, &ips)
	if err != nil {
		return nil, fmt.Errorf("repo: geo cache unresolved: %w", dbError(err))
	}
	return ips, nil
}

// CountUnresolved counts the addresses whose lookup failed.
func (s *GeoCacheStore) CountUnresolved(ctx context.Context) (int64, error) {
	n, err := s.db.NewSelect().Model((*models.GeoCacheEntry)(nil)).Where("country_code IS NULL").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: geo cache count unresolved: %w", dbError(err))
	}
	return int64(n), nil
}

// Upsert inserts entries or replaces the stored answer of an address,
// keeping the later of the two last_seen values. It returns the rows
// written.
func (s *GeoCacheStore) Upsert(ctx context.Context, entries []models.GeoCacheEntry) (int64, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	res, err := s.db.NewInsert().Model(&entries).
		On("CONFLICT (ip) DO UPDATE").
		Set("country_code = EXCLUDED.country_code").
		Set("country_name = EXCLUDED.country_name").
		Set("asn = EXCLUDED.asn").
		Set("org = EXCLUDED.org").
		Set("cached_at = EXCLUDED.cached_at").
		Set("last_seen = CASE WHEN ?TableAlias.last_seen > EXCLUDED.last_seen THEN ?TableAlias.last_seen ELSE EXCLUDED.last_seen END").
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: geo cache upsert: %w", dbError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repo: geo cache upsert: %w", dbError(err))
	}
	return n, nil
}

// DeleteUnseenSince removes the rows last seen before cutoff.
func (s *GeoCacheStore) DeleteUnseenSince(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*models.GeoCacheEntry)(nil)).Where("last_seen < ?", cutoff.Unix()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: geo cache cleanup: %w", dbError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("repo: geo cache cleanup: %w", dbError(err))
	}
	return n, nil
}
