package models

import "time"

// BulkAction is what a bulk job does to each selected address.
type BulkAction string

// The bulk actions.
const (
	BulkUnban BulkAction = "unban"
	BulkAllow BulkAction = "allow" // never ban: the allow-list (ignoreip)
	BulkBan   BulkAction = "ban"   // ban for a chosen time
)

// BulkResult is what a bulk action did to one selected row.
type BulkResult struct {
	Host string
	Jail string
	AddressResult
}

// BulkJob is the state of one bulk action run in the background.
type BulkJob struct {
	ID         string
	Action     BulkAction
	By         string   // who asked
	Hosts      []string // the hosts of its rows, in order of first appearance
	Total      int
	Done       int
	Failed     int
	Batches    int // calls made so far, one per host, jail and batch
	Results    []BulkResult
	StartedAt  time.Time
	FinishedAt time.Time
	Running    bool
}

// Percent is how much of the job is done, 0 to 100.
func (j BulkJob) Percent() int {
	if j.Total <= 0 {
		return 100
	}
	return j.Done * 100 / j.Total
}
