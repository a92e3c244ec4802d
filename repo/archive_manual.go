package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// manualTwinWindow is how far apart, in seconds, the panel's record of a
// manual ban and fail2ban's own row of the same ban may be stamped.
const manualTwinWindow = 5

// MergeManualBans folds together the two archive rows a ban made from the
// panel leaves: the panel's own record (origin manual, stamped with our
// clock) and fail2ban's row copied by the sync (origin derived from the
// jail, stamped with fail2ban's clock). fail2ban's row is kept, marked
// manual, and the panel's record is deleted. Only rows since since are
// examined. It returns how many pairs were merged.
func (s *HistoryArchiveStore) MergeManualBans(ctx context.Context, since time.Time) (int64, error) {
	var merged int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		const twin = `SELECT 1 FROM history_archive m
			WHERE m.ip = a.ip AND m.jail = a.jail AND m.action = 'ban' AND m.origin = 'manual' AND m.id != a.id
			AND m.timeofban BETWEEN a.timeofban - ? AND a.timeofban + ?`
		res, err := tx.ExecContext(ctx, `UPDATE history_archive AS a SET origin = 'manual'
			WHERE a.action = 'ban' AND a.origin != 'manual' AND a.timeofban >= ? AND EXISTS (`+twin+`)`,
			since.Unix(), manualTwinWindow, manualTwinWindow)
		if err != nil {
			return err
		}
		merged, _ = res.RowsAffected()
		if merged == 0 {
			return nil
		}
		// Of each pair now both manual, keep the row with the bigger data
		// (fail2ban's), or the older id when equal.
		_, err = tx.ExecContext(ctx, `DELETE FROM history_archive AS a
			WHERE a.action = 'ban' AND a.origin = 'manual' AND a.timeofban >= ? - ? AND EXISTS (
				SELECT 1 FROM history_archive m
				WHERE m.ip = a.ip AND m.jail = a.jail AND m.action = 'ban' AND m.origin = 'manual' AND m.id != a.id
				AND m.timeofban BETWEEN a.timeofban - ? AND a.timeofban + ?
				AND (length(m.data) > length(a.data) OR (length(m.data) = length(a.data) AND m.id < a.id)))`,
			since.Unix(), manualTwinWindow, manualTwinWindow, manualTwinWindow)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("repo: merge manual bans: %w", dbError(err))
	}
	return merged, nil
}
