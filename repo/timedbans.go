package repo

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"bangui/models"
)

// timedBanChunk bounds the rows or addresses of one statement (SQLite
// allows 32766 bound values; a row has eight).
const timedBanChunk = 500

// TimedBans keeps the bans whose end a user chose (timed_bans), with
// bun's builder, the same on SQLite and PostgreSQL.
type TimedBans struct {
	db bun.IDB
}

// NewTimedBans returns the timed-ban store on db.
func NewTimedBans(db bun.IDB) *TimedBans { return &TimedBans{db: db} }

// Put stores bans, replacing the chosen time of an address that has one in
// the same jail already. All are written or none.
func (s *TimedBans) Put(ctx context.Context, bans []models.TimedBan) error {
	if len(bans) == 0 {
		return nil
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for from := 0; from < len(bans); from += timedBanChunk {
			part := bans[from:min(from+timedBanChunk, len(bans))]
			_, err := tx.NewInsert().Model(&part).
				On("CONFLICT (host, jail, ip) DO UPDATE").
				Set("ends_at = EXCLUDED.ends_at").
				Set("seconds = EXCLUDED.seconds").
				Set("set_by = EXCLUDED.set_by").
				Set("note = EXCLUDED.note").
				Set("created_at = EXCLUDED.created_at").
				Exec(ctx)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("repo: store timed bans: %w", dbError(err))
	}
	return nil
}

// Delete removes the chosen times of ips on host, in jail or, when jail is
// empty, in every jail; nil ips removes every address's. It returns how
// many it removed.
func (s *TimedBans) Delete(ctx context.Context, host, jail string, ips []string) (int64, error) {
	del := func(ips []string) (int64, error) {
		q := s.db.NewDelete().Model((*models.TimedBan)(nil)).Where("host = ?", host)
		if jail != "" {
			q = q.Where("jail = ?", jail)
		}
		if ips != nil {
			q = q.Where("ip IN (?)", bun.In(ips))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("repo: delete timed bans: %w", dbError(err))
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	if ips == nil {
		return del(nil)
	}
	var total int64
	for from := 0; from < len(ips); from += timedBanChunk {
		n, err := del(ips[from:min(from+timedBanChunk, len(ips))])
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// All returns every chosen time, by host, jail and address.
func (s *TimedBans) All(ctx context.Context) ([]models.TimedBan, error) {
	var out []models.TimedBan
	if err := s.db.NewSelect().Model(&out).Order("host", "jail", "ip").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list timed bans: %w", dbError(err))
	}
	return out, nil
}

// OfIPs returns the chosen times of ips on host, in every jail.
func (s *TimedBans) OfIPs(ctx context.Context, host string, ips []string) ([]models.TimedBan, error) {
	var out []models.TimedBan
	for from := 0; from < len(ips); from += timedBanChunk {
		var part []models.TimedBan
		err := s.db.NewSelect().Model(&part).Where("host = ?", host).
			Where("ip IN (?)", bun.In(ips[from:min(from+timedBanChunk, len(ips))])).
			Order("jail", "ip").Scan(ctx)
		if err != nil {
			return nil, fmt.Errorf("repo: read timed bans: %w", dbError(err))
		}
		out = append(out, part...)
	}
	return out, nil
}
