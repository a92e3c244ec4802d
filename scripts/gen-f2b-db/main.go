// Command gen-f2b-db writes a realistic fail2ban database (schema version 4)
// for development and benchmarks:
//
//	go run ./scripts/gen-f2b-db -rows 1000000 -out /tmp/f2b.sqlite3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"bangui/repo/f2bgen"
)

func main() {
	rows := flag.Int("rows", 100000, "number of rows in the bans table")
	out := flag.String("out", "fail2ban.sqlite3", "database file to write (must not exist unless -force)")
	days := flag.Int("days", int(f2bgen.DefaultSpan/(24*time.Hour)), "time span of the bans in days, ending now")
	seed := flag.Uint64("seed", 1, "random seed (same seed and end time, same database)")
	end := flag.String("end", "", "newest ban time as RFC 3339 (default: now)")
	ips := flag.Int("ips", 0, "size of the IP pool (default rows/5)")
	force := flag.Bool("force", false, "replace -out if it exists")
	flag.Parse()

	opts := f2bgen.Options{Rows: *rows, Span: time.Duration(*days) * 24 * time.Hour, Seed: *seed, IPs: *ips}
	if *end != "" {
		t, err := time.Parse(time.RFC3339, *end)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen-f2b-db: -end:", err)
			os.Exit(2)
		}
		opts.End = t
	}
	if *force {
		if err := os.Remove(*out); err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(os.Stderr, "gen-f2b-db:", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if err := f2bgen.Generate(ctx, *out, opts); err != nil {
		fmt.Fprintln(os.Stderr, "gen-f2b-db:", err)
		os.Exit(1)
	}
	fi, err := os.Stat(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-f2b-db:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d bans, %.1f MiB in %s\n", *out, *rows, float64(fi.Size())/(1<<20), time.Since(start).Round(time.Millisecond))
}
