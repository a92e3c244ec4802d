package jobs

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"bangui/models"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCronSpec(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		s    models.BlocklistSchedule
		want string
	}{
		{models.BlocklistSchedule{Frequency: models.ScheduleHourly, Minute: 15}, "CRON_TZ=Europe/Berlin 15 * * * *"},
		{models.BlocklistSchedule{Frequency: models.ScheduleDaily, Hour: 3, Minute: 30}, "CRON_TZ=Europe/Berlin 30 3 * * *"},
		{models.BlocklistSchedule{Frequency: models.ScheduleWeekly, Hour: 23, Minute: 5, Weekday: time.Sunday}, "CRON_TZ=Europe/Berlin 5 23 * * 0"},
		{models.BlocklistSchedule{Frequency: models.ScheduleOff}, ""},
	}
	for _, c := range cases {
		if got := CronSpec(c.s, berlin); got != c.want {
			t.Errorf("%+v: %q, want %q", c.s, got, c.want)
		}
	}
}

func TestBlocklistSchedulerNextRunInPanelZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 2026-11-25 10:00 in Tokyo.
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, tokyo)
	clock := clockwork.NewFakeClockAt(start)
	ran := make(chan struct{}, 4)
	s, err := NewBlocklistScheduler(context.Background(), func(context.Context) { ran <- struct{}{} }, quietLog(), gocron.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if !s.NextRun().IsZero() {
		t.Fatal("a run is scheduled before Apply")
	}
	cases := []struct {
		s    models.BlocklistSchedule
		want time.Time
	}{
		{models.BlocklistSchedule{Frequency: models.ScheduleHourly, Minute: 20}, time.Date(2026, 11, 25, 10, 20, 0, 0, tokyo)},
		{models.BlocklistSchedule{Frequency: models.ScheduleDaily, Hour: 3, Minute: 30}, time.Date(2026, 11, 26, 3, 30, 0, 0, tokyo)},
		{models.BlocklistSchedule{Frequency: models.ScheduleWeekly, Hour: 9, Minute: 0, Weekday: time.Monday}, time.Date(2026, 11, 30, 9, 0, 0, 0, tokyo)},
	}
	for _, c := range cases {
		if err := s.Apply(c.s, tokyo); err != nil {
			t.Fatal(err)
		}
		if got := s.NextRun(); !got.Equal(c.want) {
			t.Errorf("%+v: next run %v, want %v", c.s, got.In(tokyo), c.want)
		}
	}
	if err := s.Apply(models.BlocklistSchedule{Frequency: models.ScheduleOff}, tokyo); err != nil {
		t.Fatal(err)
	}
	if !s.NextRun().IsZero() {
		t.Error("a run is scheduled while off")
	}

	// The job runs when its time comes, then is due an hour later.
	if err := s.Apply(models.BlocklistSchedule{Frequency: models.ScheduleHourly, Minute: 20}, tokyo); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Minute)
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the scheduled import did not run")
	}
	deadline := time.Now().Add(5 * time.Second)
	want := time.Date(2026, 11, 25, 11, 20, 0, 0, tokyo)
	for !s.NextRun().Equal(want) {
		if time.Now().After(deadline) {
			t.Fatalf("next run after the first: %v, want %v", s.NextRun().In(tokyo), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
