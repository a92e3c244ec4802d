// Command loadgen is BanGUI's load test. It generates (or reuses) a
// fail2ban database of many bans, starts a private fail2ban-server (package
// fail2ban/sandbox) and the panel binary on loopback pointing at both,
// completes setup, waits until the archive holds every ban with its
// country, logs in one session per client and then drives the panel with a
// fixed number of concurrent clients for a fixed time, mixing the
// dashboard, its table pages, history, per-IP pages and the world map,
// while -streams live event streams (GET /events) stay open on the same
// panel and a ban reaches fail2ban every -ban-every (streams.go). It
// prints requests per second, median and p99 latency per endpoint class,
// the error count, the panel's peak RSS and the streams' counts, writes
// the same report to a file, and exits 1 when any request or stream
// failed.
//
// Run it through scripts/load.sh, which builds the panel first:
//
//	LOAD_DURATION=60s LOAD_CLIENTS=50 scripts/load.sh
//
// With -fleet N it runs the fleet instead (scripts/fleet-load.sh): N
// fail2ban sandboxes with generated bans, a `bangui agent` on each, the
// panel enrolling them through its Hosts page, and the fleet
// figures timed with sequential requests beside their floors (fleet.go,
// fleet_run.go).
//
// It only ever talks to 127.0.0.0/8 or ::1, and stops every process it
// started (the panel, the agents and the fail2ban servers) on exit, Ctrl-C or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"bangui/demo"
	"bangui/fail2ban/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	bin       string
	dir       string
	listen    string
	out       string
	duration  time.Duration
	clients   int
	rows      int
	setupMax  time.Duration
	fleet     int // hosts of a fleet run; 0: the single-host load run
	fleetBans int
	runs      int
	streams   int           // event streams held open during the run
	banEvery  time.Duration // a ban injected into fail2ban this often during the run; 0: none
}

func parseFlags() (options, error) {
	var o options
	flag.StringVar(&o.bin, "bin", "", "panel binary to start (required; scripts/load.sh builds it)")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "bangui-load"), "work directory: cached fail2ban database, this run's data, logs and report")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address for the panel (port 0: a free one)")
	flag.StringVar(&o.out, "out", "", "report file (default <dir>/load-report.txt)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to drive the panel")
	flag.IntVar(&o.clients, "clients", 50, "concurrent clients, each with its own session")
	flag.IntVar(&o.rows, "rows", 1_000_000, "bans in the generated fail2ban database")
	flag.DurationVar(&o.setupMax, "setup-timeout", 20*time.Minute, "how long generating, archiving and geolocating may take before the run")
	flag.IntVar(&o.fleet, "fleet", 0, "fleet mode: start this many fail2ban sandboxes with an agent each, enrol them in the panel and time the fleet figures (see scripts/fleet-load.sh)")
	flag.IntVar(&o.fleetBans, "fleet-bans", 5000, "fleet mode: bans in each host's fail2ban database, all in the last 23 hours")
	flag.IntVar(&o.runs, "runs", 100, "fleet mode: sequential requests per figure")
	flag.IntVar(&o.streams, "streams", 50, "live event streams (GET /events) held open during the run, one per client session (round robin)")
	flag.DurationVar(&o.banEvery, "ban-every", time.Second, "during the run, ban a new address in the fail2ban sandbox this often, so that the streams carry events (0: none)")
	flag.Parse()
	switch {
	case o.fleet < 0 || o.fleet > 50:
		return o, fmt.Errorf("-fleet %d: want 0 to 50", o.fleet)
	case o.fleet > 0 && (o.fleetBans < 100 || o.fleetBans > 1_000_000):
		return o, fmt.Errorf("-fleet-bans %d: want 100 to 1000000", o.fleetBans)
	case o.fleet > 0 && (o.runs < 5 || o.runs > 1000):
		return o, fmt.Errorf("-runs %d: want 5 to 1000", o.runs)
	case o.bin == "":
		return o, errors.New("-bin is required (use scripts/load.sh)")
	case o.clients < 1 || o.clients > 1000:
		return o, fmt.Errorf("-clients %d: want 1 to 1000", o.clients)
	case o.duration < time.Second:
		return o, fmt.Errorf("-duration %s: want at least 1s", o.duration)
	case o.streams < 0 || o.streams > 1000:
		return o, fmt.Errorf("-streams %d: want 0 to 1000", o.streams)
	case o.rows < 1000:
		return o, fmt.Errorf("-rows %d: want at least 1000", o.rows)
	}
	if err := checkLoopbackAddr(o.listen); err != nil {
		return o, err
	}
	if o.out == "" {
		o.out = filepath.Join(o.dir, "load-report.txt")
	}
	return o, nil
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	log.SetFlags(log.Ltime)
	log.SetPrefix("loadgen: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	if o.fleet > 0 {
		return runFleet(ctx, o)
	}
	f2bDB, err := cachedF2BDB(ctx, o.dir, o.rows)
	if err != nil {
		return err
	}
	mmdb, err := writeCountryDB(o.dir)
	if err != nil {
		return err
	}
	runDir := filepath.Join(o.dir, "run")
	if err := os.RemoveAll(runDir); err != nil {
		return err
	}

	log.Printf("starting fail2ban-server in %s", filepath.Join(runDir, "f2b"))
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(runDir, "f2b"), Jails: demo.Jails(), DBPurgeAge: "1d"})
	if err != nil {
		return fmt.Errorf("fail2ban sandbox: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := sb.Stop(sctx); err != nil {
			log.Printf("stopping fail2ban-server: %v", err)
		}
	}()
	samples, err := sampleData(ctx, f2bDB)
	if err != nil {
		return err
	}
	if err := seedCurrentBans(ctx, sb, samples.ips); err != nil {
		return err
	}

	addr, err := freeAddr(o.listen)
	if err != nil {
		return err
	}
	dataDir := filepath.Join(runDir, "data")
	tmpl := templatePath(o.dir, f2bDB)
	fromTemplate, err := useTemplate(ctx, tmpl, dataDir, sb)
	if err != nil {
		return err
	}
	p, err := startPanel(o.bin, addr, dataDir, filepath.Join(runDir, "panel.log"), sb, f2bDB, mmdb)
	if err != nil {
		return err
	}
	defer p.stop()
	base := "http://" + addr
	if err := checkLoopbackURL(base); err != nil {
		return err
	}
	setupCtx, cancel := context.WithTimeout(ctx, o.setupMax)
	defer cancel()
	if err := p.waitHealthy(setupCtx); err != nil {
		if fromTemplate && p.exited() {
			os.Remove(tmpl) // perhaps the cached database is at fault: the next run archives afresh
		}
		return err
	}
	if !fromTemplate {
		if err := completeSetup(setupCtx, base, dataDir, sb); err != nil {
			return err
		}
		log.Printf("setup complete")
	}
	log.Printf("waiting for the archive sync and the country fill of %d bans", o.rows)
	archived, err := waitArchive(setupCtx, p, dataDir, f2bDB)
	if err != nil {
		return err
	}
	if !fromTemplate {
		if err := saveTemplate(setupCtx, dataDir, tmpl); err != nil {
			log.Printf("%v (the next run archives again)", err)
		}
	}
	log.Printf("logging in %d clients", o.clients)
	clients, err := loginClients(setupCtx, base, o.clients)
	if err != nil {
		return err
	}
	ip, ipBans, err := ipNear(setupCtx, f2bDB, 5072)
	if err != nil {
		return fmt.Errorf("pick the per-IP page: %w", err)
	}
	pages := timedPages(ip, ipBans)
	timings, err := timeFirst(setupCtx, clients[0], base, pages)
	if err != nil {
		return fmt.Errorf("first requests: %w", err)
	}
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	streamsDone := make(chan streamReport, 1)
	if o.streams > 0 {
		log.Printf("opening %d event streams", o.streams)
		owners := make([]*http.Client, o.streams)
		for i := range owners {
			owners[i] = clients[i%len(clients)]
		}
		ready := make(chan struct{})
		go func() {
			per := holdStreams(streamCtx, base, owners, ready)
			streamsDone <- streamReport{Streams: o.streams, Per: per}
		}()
		select {
		case <-ready:
		case <-ctx.Done():
			return errors.New("interrupted")
		}
	} else {
		streamsDone <- streamReport{}
	}
	injected := make(chan int, 1)
	go func() { injected <- injectBans(streamCtx, sb.SocketPath, o.banEvery) }()
	resetPeakRSS(p.pid())
	cpu0 := cpuTime(p.pid())
	log.Printf("driving %s for %s with %d clients", base, o.duration, o.clients)
	rep, err := drive(ctx, base, clients, o.duration, samples)
	if err != nil {
		return err
	}
	rep.PeakRSS = peakRSS(p.pid()) // before the streams close
	rep.PanelCPU = cpuTime(p.pid()) - cpu0
	stopStreams()
	rep.Streams = <-streamsDone
	rep.Streams.BansInjected = <-injected
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if err := timeMedians(ctx, clients[0], base, pages, 20, timings); err != nil {
		return fmt.Errorf("sequential requests: %w", err)
	}
	rep.Timings = timings
	rep.Target, rep.Clients, rep.Rows = base, o.clients, o.rows
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("archive: %d events; sample: %d IPs, %d jails, %d countries", archived, len(samples.ips), len(samples.jails), len(samples.countries)),
		fmt.Sprintf("panel log: %s", p.logPath),
		"peak RSS is the panel's VmHWM, reset just before the run (set-up peaks excluded)")
	var sb2 strings.Builder
	rep.Write(&sb2)
	fmt.Print("\n" + sb2.String())
	if err := os.WriteFile(o.out, []byte(sb2.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("report written to %s\n", o.out)
	if rep.Total.Errors > 0 || rep.Streams.errors() > 0 {
		return fmt.Errorf("%d of %d requests and %d stream connections failed", rep.Total.Errors, rep.Total.Requests, rep.Streams.errors())
	}
	return nil
}

// freeAddr returns listen with port 0 replaced by a free port.
func freeAddr(listen string) (string, error) {
	host, port, _ := net.SplitHostPort(listen)
	if port != "0" {
		return listen, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
