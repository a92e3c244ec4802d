package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// BlocklistStore keeps blocklist sources in blocklist_sources.
type BlocklistStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewBlocklistStore returns a store on db.
func NewBlocklistStore(db bun.IDB) *BlocklistStore {
	return &BlocklistStore{db: db, now: time.Now}
}

// Create adds a source and returns its id. A name or URL that is taken
// yields a *DuplicateError.
func (s *BlocklistStore) Create(ctx context.Context, name, url string, enabled bool) (int64, error) {
	now := s.now().Unix()
	src := models.BlocklistSource{Name: name, URL: url, Enabled: enabled, CreatedAt: now, UpdatedAt: now}
	if _, err := s.db.NewInsert().Model(&src).Exec(ctx); err != nil {
		return 0, fmt.Errorf("repo: create blocklist source: %w", s.duplicate(ctx, err, 0, name))
	}
	return src.ID, nil
}

// duplicate maps err (from writing a source with this id and name, id 0
// for a new one) through dbError and, when it is a duplicate, says which
// column is taken: the name when another source has it (as SQLite, which
// checks the name's constraint first, reported it), otherwise the URL.
func (s *BlocklistStore) duplicate(ctx context.Context, err error, id int64, name string) error {
	err = dbError(err)
	if !errors.Is(err, ErrDuplicate) {
		return err
	}
	column := "url"
	taken, lookErr := s.db.NewSelect().Model((*models.BlocklistSource)(nil)).
		Where("name = ?", name).Where("id != ?", id).Exists(ctx)
	if lookErr != nil {
		return errors.Join(err, dbError(lookErr))
	}
	if taken {
		column = "name"
	}
	return &DuplicateError{Column: column, Err: err}
}

// Get returns one source, or ErrNotFound.
func (s *BlocklistStore) Get(ctx context.Context, id int64) (models.BlocklistSource, error) {
	var src models.BlocklistSource
	if err := s.db.NewSelect().Model(&src).Where("id = ?", id).Scan(ctx); err != nil {
		return src, fmt.Errorf("repo: get blocklist source %d: %w", id, dbError(err))
	}
	return src, nil
}

// List returns every source by name.
func (s *BlocklistStore) List(ctx context.Context) ([]models.BlocklistSource, error) {
	return s.list(ctx, false)
}

// ListEnabled returns the enabled sources by name.
func (s *BlocklistStore) ListEnabled(ctx context.Context) ([]models.BlocklistSource, error) {
	return s.list(ctx, true)
}

func (s *BlocklistStore) list(ctx context.Context, enabledOnly bool) ([]models.BlocklistSource, error) {
	var out []models.BlocklistSource
	// lower() folds ASCII letters only, on both dialects (SQLite's NOCASE
	// did the same).
	q := s.db.NewSelect().Model(&out).OrderExpr("lower(name), id")
	if enabledOnly {
		q = q.Where("enabled = ?", true)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: list blocklist sources: %w", dbError(err))
	}
	return out, nil
}

// Update saves name, URL, enabled and target hosts of src (by ID) and stamps UpdatedAt.
// It returns ErrNotFound for an unknown id and a *DuplicateError when the
// name or URL is taken by another source.
func (s *BlocklistStore) Update(ctx context.Context, src models.BlocklistSource) error {
	src.UpdatedAt = s.now().Unix()
	res, err := s.db.NewUpdate().Model(&src).Column("name", "url", "enabled", "target_hosts", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: update blocklist source %d: %w", src.ID, s.duplicate(ctx, err, src.ID, src.Name))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("repo: update blocklist source %d: %w", src.ID, ErrNotFound)
	}
	return nil
}

// Delete removes a source and its import runs. Its import log rows stay,
// with their source id cleared (ON DELETE SET NULL) but name and URL kept.
func (s *BlocklistStore) Delete(ctx context.Context, id int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.ImportRun)(nil)).Where("source_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("repo: delete import runs of source %d: %w", id, dbError(err))
		}
		res, err := tx.NewDelete().Model((*models.BlocklistSource)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("repo: delete blocklist source %d: %w", id, dbError(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("repo: delete blocklist source %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// ImportLogStore keeps the outcome of every import in import_log.
type ImportLogStore struct {
	db bun.IDB
}

// NewImportLogStore returns a store on db.
func NewImportLogStore(db bun.IDB) *ImportLogStore { return &ImportLogStore{db: db} }

// Add stores one entry and returns its id.
func (s *ImportLogStore) Add(ctx context.Context, e models.ImportLog) (int64, error) {
	e.ID = 0
	if e.StartedBy == "" {
		e.StartedBy = models.TriggerManual
	}
	if _, err := s.db.NewInsert().Model(&e).Exec(ctx); err != nil {
		return 0, fmt.Errorf("repo: add import log entry: %w", dbError(err))
	}
	return e.ID, nil
}

// List returns one page of entries, newest first, of one source or of all
// (sourceID nil), and how many there are in all.
func (s *ImportLogStore) List(ctx context.Context, sourceID *int64, page models.Page) ([]models.ImportLog, int64, error) {
	var out []models.ImportLog
	q := s.db.NewSelect().Model(&out).OrderExpr("timestamp DESC, id DESC").Limit(int64(page.Size)).Offset(int64(page.Offset()))
	if sourceID != nil {
		q = q.Where("source_id = ?", *sourceID)
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("repo: list import log: %w", dbError(err))
	}
	return out, int64(total), nil
}

// Last returns the newest entry, or ErrNotFound.
func (s *ImportLogStore) Last(ctx context.Context) (models.ImportLog, error) {
	var e models.ImportLog
	if err := s.db.NewSelect().Model(&e).OrderExpr("timestamp DESC, id DESC").Limit(1).Scan(ctx); err != nil {
		return e, fmt.Errorf("repo: last import log entry: %w", dbError(err))
	}
	return e, nil
}

// LastBatch returns the entries of the newest run started by by, one per
// source in the order they were written; none before the first such run.
func (s *ImportLogStore) LastBatch(ctx context.Context, by models.ImportTrigger) ([]models.ImportLog, error) {
	var out []models.ImportLog
	err := s.db.NewSelect().Model(&out).
		Where("started_by = ?", by).
		Where("batch = (SELECT max(batch) FROM import_log WHERE started_by = ?)", by).
		OrderExpr("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: last %s import: %w", by, dbError(err))
	}
	return out, nil
}

// ImportRunStore tracks import runs by source and content hash in
// import_runs, with the addresses a pending run still bans in
// import_run_targets.
type ImportRunStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewImportRunStore returns a store on db.
func NewImportRunStore(db bun.IDB) *ImportRunStore { return &ImportRunStore{db: db, now: time.Now} }

// BySourceAndHash returns the run of one content of one source on one
// host, or ErrNotFound.
func (s *ImportRunStore) BySourceAndHash(ctx context.Context, sourceID int64, host, contentHash string) (models.ImportRun, error) {
	var r models.ImportRun
	err := s.db.NewSelect().Model(&r).Where("source_id = ?", sourceID).Where("host = ?", host).
		Where("content_hash = ?", contentHash).Scan(ctx)
	if err != nil {
		return r, fmt.Errorf("repo: import run of source %d: %w", sourceID, dbError(err))
	}
	return r, nil
}

// Get returns one run, or ErrNotFound.
func (s *ImportRunStore) Get(ctx context.Context, runID int64) (models.ImportRun, error) {
	var r models.ImportRun
	if err := s.db.NewSelect().Model(&r).Where("id = ?", runID).Scan(ctx); err != nil {
		return r, fmt.Errorf("repo: import run %d: %w", runID, dbError(err))
	}
	return r, nil
}

// CreatePending records a new run of one content on one host in state
// pending, with the addresses it bans (in order) and the number of entries
// skipped while parsing, in one transaction.
func (s *ImportRunStore) CreatePending(ctx context.Context, sourceID int64, host, contentHash string, targets []string, skipped int64) (int64, error) {
	now := s.now().Unix()
	r := models.ImportRun{SourceID: sourceID, Host: host, ContentHash: contentHash, State: models.ImportPending,
		SkippedCount: skipped, Total: int64(len(targets)), CreatedAt: now, UpdatedAt: now}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&r).Exec(ctx); err != nil {
			return err
		}
		t := models.ImportRunTargets{RunID: r.ID, Targets: strings.Join(targets, "\n")}
		_, err := tx.NewInsert().Model(&t).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("repo: create import run of source %d: %w", sourceID, dbError(err))
	}
	return r.ID, nil
}

// Restart makes a finished run of the same content run again from the
// start with a fresh list of addresses (state pending, progress zero).
func (s *ImportRunStore) Restart(ctx context.Context, runID int64, targets []string, skipped int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*models.ImportRun)(nil)).
			Set("state = ?", models.ImportPending).Set("error = NULL").
			Set("total = ?", len(targets)).Set("done = 0").Set("imported_count = 0").Set("already_banned = 0").
			Set("skipped_count = ?", skipped).Set("updated_at = ?", s.now().Unix()).
			Where("id = ?", runID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("repo: restart import run %d: %w", runID, dbError(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("repo: restart import run %d: %w", runID, ErrNotFound)
		}
		t := models.ImportRunTargets{RunID: runID, Targets: strings.Join(targets, "\n")}
		if _, err := tx.NewInsert().Model(&t).On("CONFLICT (run_id) DO UPDATE").Set("targets = EXCLUDED.targets").Exec(ctx); err != nil {
			return fmt.Errorf("repo: restart import run %d: %w", runID, dbError(err))
		}
		return nil
	})
}

// Reopen puts a failed run back in state pending, keeping its progress,
// before it is resumed.
func (s *ImportRunStore) Reopen(ctx context.Context, runID int64) error {
	_, err := s.db.NewUpdate().Model((*models.ImportRun)(nil)).
		Set("state = ?", models.ImportPending).Set("error = NULL").Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", runID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: reopen import run %d: %w", runID, dbError(err))
	}
	return nil
}

// Targets returns the addresses a run bans, in order; none once the run
// has completed.
func (s *ImportRunStore) Targets(ctx context.Context, runID int64) ([]string, error) {
	var t models.ImportRunTargets
	err := s.db.NewSelect().Model(&t).Where("run_id = ?", runID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("repo: targets of import run %d: %w", runID, dbError(err))
	}
	if t.Targets == "" {
		return nil, nil
	}
	return strings.Split(t.Targets, "\n"), nil
}

// Advance records progress: the first done addresses are handled, imported
// of them were newly banned and alreadyBanned were banned before. The
// values are totals, so writing the same progress twice is harmless.
func (s *ImportRunStore) Advance(ctx context.Context, runID, done, imported, alreadyBanned int64) error {
	_, err := s.db.NewUpdate().Model((*models.ImportRun)(nil)).
		Set("done = ?", done).Set("imported_count = ?", imported).Set("already_banned = ?", alreadyBanned).
		Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", runID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: advance import run %d: %w", runID, dbError(err))
	}
	return nil
}

// MarkCompleted ends a run successfully with its final counts and drops its
// list of addresses.
func (s *ImportRunStore) MarkCompleted(ctx context.Context, runID, imported, skipped int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*models.ImportRun)(nil)).
			Set("state = ?", models.ImportCompleted).Set("error = NULL").
			Set("imported_count = ?", imported).Set("skipped_count = ?", skipped).
			Set("done = total").Set("updated_at = ?", s.now().Unix()).
			Where("id = ?", runID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("repo: complete import run %d: %w", runID, dbError(err))
		}
		if _, err := tx.NewDelete().Model((*models.ImportRunTargets)(nil)).Where("run_id = ?", runID).Exec(ctx); err != nil {
			return fmt.Errorf("repo: complete import run %d: %w", runID, dbError(err))
		}
		return nil
	})
}

// MarkFailed ends a run with an error; its progress and list stay, so the
// next run of the same content resumes it.
func (s *ImportRunStore) MarkFailed(ctx context.Context, runID int64, message string) error {
	_, err := s.db.NewUpdate().Model((*models.ImportRun)(nil)).
		Set("state = ?", models.ImportFailed).Set("error = ?", message).Set("updated_at = ?", s.now().Unix()).
		Where("id = ?", runID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("repo: fail import run %d: %w", runID, dbError(err))
	}
	return nil
}

// Pending returns the runs left in state pending, oldest first: runs a
// process was doing when it stopped.
func (s *ImportRunStore) Pending(ctx context.Context) ([]models.ImportRun, error) {
	var out []models.ImportRun
	if err := s.db.NewSelect().Model(&out).Where("state = ?", models.ImportPending).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: pending import runs: %w", dbError(err))
	}
	return out, nil
}

// SupersedeOthers marks every unfinished run of a source on one host other
// than keep as failed with message (the source's content changed before
// they finished) and drops the address lists of its other runs there.
func (s *ImportRunStore) SupersedeOthers(ctx context.Context, sourceID int64, host string, keep int64, message string) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*models.ImportRun)(nil)).
			Set("state = ?", models.ImportFailed).Set("error = ?", message).Set("updated_at = ?", s.now().Unix()).
			Where("source_id = ?", sourceID).Where("host = ?", host).Where("id != ?", keep).
			Where("state != ?", models.ImportCompleted).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("repo: supersede import runs of source %d: %w", sourceID, dbError(err))
		}
		_, err = tx.NewDelete().Model((*models.ImportRunTargets)(nil)).
			Where("run_id IN (SELECT id FROM import_runs WHERE source_id = ? AND host = ? AND id != ?)", sourceID, host, keep).Exec(ctx)
		if err != nil {
			return fmt.Errorf("repo: supersede import runs of source %d: %w", sourceID, dbError(err))
		}
		return nil
	})
}
