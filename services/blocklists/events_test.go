package blocklists

import (
	"context"
	"testing"
	"time"

	"bangui/events"
	"bangui/models"
)

// An import publishes its progress: a start, progress while it runs and a
// last event that says it finished, with the results the page shows.
func TestImportPublishesProgress(t *testing.T) {
	e := newImportEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := e.service(2, nil)
	b.opts.Events = events.New()
	ch := b.opts.Events.Subscribe(ctx, events.TopicImport)
	e.addSource(b, "Good", e.lists.set("good-events", goodList))

	if _, err := b.Import(ctx, 0, models.TriggerManual); err != nil {
		t.Fatal(err)
	}
	var seen []models.ImportProgress
	for {
		select {
		case ev := <-ch:
			seen = append(seen, ev.Data.(models.ImportProgress))
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	if len(seen) < 3 {
		t.Fatalf("published %d progress events, want at least a start, a step and the end: %+v", len(seen), seen)
	}
	if first := seen[0]; !first.Running || first.StartedBy != models.TriggerManual {
		t.Errorf("first event %+v, want a running manual import", first)
	}
	last := seen[len(seen)-1]
	if last.Running || last.FinishedAt.IsZero() {
		t.Errorf("last event %+v, want a finished import", last)
	}
	if r := resultOf(t, last, "Good"); r.Imported != 3 {
		t.Errorf("last event's result for Good: %+v, want 3 imported", r)
	}
}
