package repo

import (
	"cmp"
	"fmt"
	"math"
	"time"

	"bangui/repo/sqlkit"
)

// maxBuckets bounds CountsByBucket so a bad request cannot allocate without limit.
const maxBuckets = 100000

// maxRangeBuckets is the most buckets CountsByBucket counts as index ranges.
const maxRangeBuckets = 1000

// bucketQuery builds the one statement behind CountsByBucket, in one of two
// shapes. ranges counts each bucket as its own range of the time index,
// with a correlated count per row of a recursive bucket list: no sort at
// all, about five times faster than GROUP BY over a year of a million rows
// (the GROUP BY must sort every row's bucket number). The GROUP BY shape
// groups on (timeofban - start) / width; it serves many buckets and filters
// whose rows are not found through the time index.
type bucketQuery struct {
	table   string
	cond    sqlkit.Where // filter conditions without the time bounds
	timeCol string       // "timeofban", or "+timeofban" to keep SQLite off the time index
	start   int64        // window start (bucket 0 begins here)
	width   int64        // bucket width in seconds
	lower   int64        // first second counted: start or a later Since
	end     int64        // window end, exclusive
	n       int
	ranges  bool
}

func (q bucketQuery) sql() (string, []any) {
	if q.ranges {
		w := q.cond.Clone()
		w.Add("timeofban >= max(? + k.b * ?, ?)", q.start, q.width, q.lower)
		w.Add("timeofban < ? + (k.b + 1) * ?", q.start, q.width)
		return `WITH RECURSIVE k(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM k WHERE b + 1 < ?)
			SELECT k.b, (SELECT count(*) FROM ` + q.table + w.Clause() + `) FROM k`, append([]any{q.n}, w.Args()...)
	}
	col := cmp.Or(q.timeCol, "timeofban")
	w := q.cond.Clone()
	w.Add(col+" >= ?", q.lower)
	w.Add(col+" < ?", q.end)
	return `SELECT (timeofban - ?) / ? AS b, count(*) FROM ` + q.table + w.Clause() + ` GROUP BY b`,
		append([]any{q.start, q.width}, w.Args()...)
}

// bucketWindow validates a bucket request and returns the bucket width in
// seconds and the window [start, end) in unix seconds.
func bucketWindow(now time.Time, bucket time.Duration, buckets int) (width, start, end int64, err error) {
	width = int64(bucket / time.Second)
	if width < 1 || buckets < 0 || buckets > maxBuckets {
		return 0, 0, 0, fmt.Errorf("repo: bad bucket request: %d buckets of %s", buckets, bucket)
	}
	if width > math.MaxInt64/int64(max(buckets, 1))/2 {
		return 0, 0, 0, fmt.Errorf("repo: bad bucket request: %d buckets of %s", buckets, bucket)
	}
	// fail2ban stamps bans with its own clock, which can run a second or so
	// ahead of ours; the window ends a minute after now so that a ban made
	// this instant lands in the last bucket.
	end = now.Unix() + 60
	start = end - width*int64(buckets)
	return width, start, end, nil
}
