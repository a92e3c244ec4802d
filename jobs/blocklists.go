package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"

	"bangui/models"
)

// BlocklistScheduler runs blocklist imports on the schedule the admin
// chose, in the panel's time zone, with gocron. Runs never overlap. It
// implements blocklists.Scheduler.
type BlocklistScheduler struct {
	ctx context.Context
	s   gocron.Scheduler
	run func(context.Context)
	log *slog.Logger

	mu  sync.Mutex
	job gocron.Job // nil while the schedule is off
}

// NewBlocklistScheduler returns a started scheduler that calls run, with a
// context that ends with ctx or Shutdown, at the times Apply sets. Until
// Apply is called nothing runs. opts go to gocron (tests pass a fake clock).
func NewBlocklistScheduler(ctx context.Context, run func(context.Context), log *slog.Logger, opts ...gocron.SchedulerOption) (*BlocklistScheduler, error) {
	if log == nil {
		log = slog.Default()
	}
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("jobs: blocklist scheduler: %w", err)
	}
	s.Start()
	return &BlocklistScheduler{ctx: ctx, s: s, run: run, log: log}, nil
}

// CronSpec is the crontab line of a schedule in loc, with the zone in a
// CRON_TZ prefix: hourly at minute m ("m * * * *"), daily at h:m
// ("m h * * *") or weekly on a day at h:m ("m h * * d"). It returns "" when
// the schedule is off.
func CronSpec(s models.BlocklistSchedule, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var spec string
	switch s.Frequency {
	case models.ScheduleHourly:
		spec = fmt.Sprintf("%d * * * *", s.Minute)
	case models.ScheduleDaily:
		spec = fmt.Sprintf("%d %d * * *", s.Minute, s.Hour)
	case models.ScheduleWeekly:
		spec = fmt.Sprintf("%d %d * * %d", s.Minute, s.Hour, int(s.Weekday))
	default:
		return ""
	}
	return "CRON_TZ=" + loc.String() + " " + spec
}

// Apply replaces the schedule. An "off" schedule removes the job.
func (b *BlocklistScheduler) Apply(s models.BlocklistSchedule, loc *time.Location) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.job != nil {
		if err := b.s.RemoveJob(b.job.ID()); err != nil {
			return fmt.Errorf("jobs: blocklist schedule: %w", err)
		}
		b.job = nil
	}
	spec := CronSpec(s, loc)
	if spec == "" {
		b.log.Info("blocklist schedule off")
		return nil
	}
	job, err := b.s.NewJob(gocron.CronJob(spec, false),
		gocron.NewTask(func(ctx context.Context) { b.run(ctx) }),
		gocron.WithName("blocklist-import"),
		gocron.WithContext(b.ctx),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
	)
	if err != nil {
		return fmt.Errorf("jobs: blocklist schedule %q: %w", spec, err)
	}
	b.job = job
	next, _ := job.NextRun()
	b.log.Info("blocklist schedule", "cron", spec, "next_run", next)
	return nil
}

// NextRun is the time of the next scheduled import, zero when off.
func (b *BlocklistScheduler) NextRun() time.Time {
	b.mu.Lock()
	job := b.job
	b.mu.Unlock()
	if job == nil {
		return time.Time{}
	}
	t, err := job.NextRun()
	if err != nil {
		return time.Time{}
	}
	return t
}

// Shutdown stops the scheduler and waits for a running import to return
// (its context is cancelled).
func (b *BlocklistScheduler) Shutdown() error {
	return b.s.Shutdown()
}

// ScheduleFollower is the part of the blocklist service that picks up a
// schedule saved by another panel process.
type ScheduleFollower interface {
	FollowSchedule(ctx context.Context) error
}

// FollowBlocklistSchedule returns a job that applies the blocklist schedule
// saved in the database when it changed, so that every panel process on one
// database imports on the same schedule (the schedule's lease then gives
// each scheduled time to one of them).
func FollowBlocklistSchedule(b ScheduleFollower, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		if err := b.FollowSchedule(ctx); err != nil && ctx.Err() == nil {
			log.Warn("blocklist schedule not applied", "err", err)
		}
	}
}
