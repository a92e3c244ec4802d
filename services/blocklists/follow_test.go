package blocklists

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"bangui/hosts"
	"bangui/jobs"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// Two panel processes on one database, each with its own scheduler: a
// schedule saved through one reaches the other's scheduler when it follows
// the saved schedule (its job does so every minute), and not before.
func TestFollowScheduleSavedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	process := func() (*Service, *jobs.BlocklistScheduler) {
		reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: filepath.Join(t.TempDir(), "none.sock")})
		b := New(storesOn(db), reg, services.NewStatusProbe(reg), Options{Logger: quiet})
		s, err := jobs.NewBlocklistScheduler(ctx, func(context.Context) {}, quiet, gocron.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown() })
		b.UseScheduler(s)
		if err := b.ApplySchedule(ctx); err != nil {
			t.Fatal(err)
		}
		return b, s
	}
	b1, s1 := process()
	b2, s2 := process() // on the default schedule (daily at 03:00)
	if _, err := b1.SaveSchedule(ctx, ScheduleInput{Frequency: "daily", Time: "03:30"}); err != nil {
		t.Fatal(err)
	}
	if s1.NextRun().IsZero() {
		t.Fatal("the saving process has no next run")
	}
	if s2.NextRun().Equal(s1.NextRun()) {
		t.Fatalf("the other process runs at %v before following the schedule", s2.NextRun())
	}
	if err := b2.FollowSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := s2.NextRun(), s1.NextRun(); !got.Equal(want) {
		t.Errorf("the other process's next run %v; want %v", got, want)
	}
}
