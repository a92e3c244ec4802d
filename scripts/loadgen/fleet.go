package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// fleetJail is the one jail of every fleet sandbox: manual (no log to
// poll), so twenty-one idle fail2ban servers cost the machine little. Its
// name is one of the generated database's jails, so fail2ban restores that
// jail's still running bans at start as a real server would.
const fleetJail = "sshd"

// fleetArchiveEvery is the panel's archive interval in a fleet run: a
// newly enrolled host is first synced at the next turn.
const fleetArchiveEvery = "15s"

// fleetHost is one remote host of the fleet: its sandbox, its agent and
// what the agent printed.
type fleetHost struct {
	id          string
	sb          *sandbox.Sandbox
	maxRowID    int64 // last rowid of its generated fail2ban database
	agent       *panel
	url         string
	token       string
	fingerprint string
}

// fleet is everything a fleet run started; stop ends all of it.
type fleet struct {
	dir   string
	local *sandbox.Sandbox
	hosts []*fleetHost
	panel *panel
}

// stop ends the panel, the agents and the sandboxes, in that order (each
// may be missing when set-up failed half-way).
func (f *fleet) stop() {
	if f.panel != nil {
		f.panel.stop()
	}
	var wg sync.WaitGroup
	for _, h := range f.hosts {
		if h.agent != nil {
			wg.Go(h.agent.stop)
		}
	}
	wg.Wait()
	sbs := []*sandbox.Sandbox{f.local}
	for _, h := range f.hosts {
		sbs = append(sbs, h.sb)
	}
	for _, sb := range sbs {
		if sb == nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := sb.Stop(ctx); err != nil {
				log.Printf("stopping fail2ban-server in %s: %v", sb.Dir, err)
			}
		})
	}
	wg.Wait()
	log.Printf("stopped the panel, %d agents and %d fail2ban servers", len(f.hosts), len(sbs))
}

// startFleetSandboxes starts the panel's own fail2ban (no bans) and n
// more, each with a generated fail2ban database of bans bans in the last
// 23 hours, a few at a time.
func (f *fleet) startSandboxes(ctx context.Context, n, bans int) error {
	var err error
	f.local, err = startFleetSandbox(ctx, filepath.Join(f.dir, "local"))
	if err != nil {
		return fmt.Errorf("the panel's fail2ban: %w", err)
	}
	end := time.Now()
	f.hosts = make([]*fleetHost, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range f.hosts {
		h := &fleetHost{id: fmt.Sprintf("web%02d", i+1)}
		f.hosts[i] = h
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			dir := filepath.Join(f.dir, h.id)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs[i] = err
				return
			}
			db := sandbox.DBPath(dir)
			if err := f2bgen.Generate(ctx, db, f2bgen.Options{Rows: bans, Span: 23 * time.Hour, End: end, Seed: uint64(i + 1)}); err != nil {
				errs[i] = fmt.Errorf("%s: generate fail2ban database: %w", h.id, err)
				return
			}
			if h.maxRowID, errs[i] = maxRowID(ctx, db); errs[i] != nil {
				return
			}
			if h.sb, errs[i] = startFleetSandbox(ctx, dir); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", h.id, errs[i])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startFleetSandbox starts a fail2ban sandbox in dir with fleetJail and
// takes the dummy action (a shell per ban) off that jail, as loadgen does:
// the figures are the panel's and fail2ban's, not a shell's.
func startFleetSandbox(ctx context.Context, dir string) (*sandbox.Sandbox, error) {
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, Jails: []sandbox.Jail{{Name: fleetJail, Manual: true}}, DBPurgeAge: "1d"})
	if err != nil {
		return nil, err
	}
	if _, err := sb.Client().Call(ctx, "set", fleetJail, "delaction", "dummy"); err != nil {
		return sb, fmt.Errorf("delaction dummy: %w", err)
	}
	return sb, nil
}

// maxRowID is the last rowid of a fail2ban database's bans.
func maxRowID(ctx context.Context, path string) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT max(rowid) FROM bans`).Scan(&id); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// startAgents starts `bin agent` for every host on a free loopback port
// and reads its address, enrolment token and fingerprint from its log.
func (f *fleet) startAgents(ctx context.Context, bin string) error {
	for _, h := range f.hosts {
		dir := filepath.Join(f.dir, h.id)
		p, err := startProcess(bin, []string{"agent",
			"--listen", "127.0.0.1:0",
			"--data-dir", filepath.Join(dir, "agent"),
			"--socket", h.sb.SocketPath,
			"--config-dir", h.sb.ConfigDir,
			"--log-dirs", h.sb.Dir,
			"--shutdown-grace", "2s",
		}, filepath.Join(dir, "agent.log"))
		if err != nil {
			return fmt.Errorf("%s: start agent: %w", h.id, err)
		}
		h.agent = p
	}
	for _, h := range f.hosts {
		if err := h.readAgentLog(ctx); err != nil {
			return err
		}
	}
	return nil
}

// readAgentLog polls the agent's log until it says it listens.
func (h *fleetHost) readAgentLog(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(h.agent.logPath)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			fl := agenttest.LogFields(sc.Text())
			if fl["token"] != "" {
				h.token, h.fingerprint = fl["token"], fl["fingerprint"]
			}
			if fl["msg"] == agenttest.ListeningMessage {
				h.url = "https://" + fl["addr"]
			}
		}
		switch {
		case h.url != "" && h.token != "":
			if err := checkLoopbackURL(strings.Replace(h.url, "https://", "http://", 1)); err != nil {
				return err
			}
			return nil
		case h.agent.exited():
			return fmt.Errorf("%s: the agent exited at start; see %s", h.id, h.agent.logPath)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: the agent printed no address and token within 30 s; see %s", h.id, h.agent.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startFleetPanel starts the panel on the local sandbox with a short
// archive interval.
func (f *fleet) startPanel(bin, addr, mmdb string) error {
	p, err := startProcess(bin, []string{
		"--listen", addr,
		"--data-dir", filepath.Join(f.dir, "panel"),
		"--socket", f.local.SocketPath,
		"--config-dir", f.local.ConfigDir,
		"--geo-country-db", mmdb,
		"--log-dirs", f.local.Dir,
		"--archive-interval", fleetArchiveEvery,
		"--log-level", "info", // the archive syncs' times, to match slow requests with
	}, filepath.Join(f.dir, "panel.log"))
	if err != nil {
		return fmt.Errorf("start panel: %w", err)
	}
	p.addr = addr
	f.panel = p
	log.Printf("panel pid %d on http://%s (log %s)", p.pid(), addr, p.logPath)
	return nil
}

var fingerprintField = regexp.MustCompile(`name="fingerprint"\s+value="([^"]*)"`)

// enroll adds h on the Hosts page as an admin does: the form's first step
// shows the agent's fingerprint, which must be the one the agent printed;
// the second step enrols it.
func enroll(ctx context.Context, c *http.Client, base string, h *fleetHost) error {
	tok, err := csrfOf(ctx, c, base, "/hosts")
	if err != nil {
		return err
	}
	form := url.Values{"_csrf": {tok}, "name": {"Web server " + strings.TrimPrefix(h.id, "web")}, "id": {h.id}, "url": {h.url}, "token": {h.token}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/hosts/probe", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: POST /hosts/probe: status %d: %.500s", h.id, resp.StatusCode, body)
	}
	m := fingerprintField.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("%s: POST /hosts/probe: no fingerprint in the page", h.id)
	}
	if hexOnly(string(m[1])) != hexOnly(h.fingerprint) {
		return fmt.Errorf("%s: the panel shows the fingerprint %s, the agent printed %s", h.id, m[1], h.fingerprint)
	}
	form.Set("fingerprint", string(m[1]))
	return postForm(ctx, c, base, "/hosts", form, "/hosts")
}

// hexOnly keeps the hex digits of a fingerprint, lower-cased.
func hexOnly(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			return r
		case r >= 'A' && r <= 'F':
			return r + 'a' - 'A'
		}
		return -1
	}, s)
}

// waitArchive waits until the panel's archive sync has copied every row of
// every host's fail2ban database and the country fill has looked up every
// archived address, reading the panel's database read-only, and returns
// how many ban events the archive holds.
func (f *fleet) waitArchive(ctx context.Context) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "panel", repo.DBFileName)+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start, lastLog := time.Now(), time.Now()
	for {
		synced, events, unresolved, err := archiveState(ctx, db, f.hosts)
		if err == nil && synced == len(f.hosts) && unresolved == 0 {
			log.Printf("archive ready after %s: %d ban events of %d hosts", time.Since(start).Round(time.Second), events, synced)
			return events, nil
		}
		if f.panel.exited() {
			return 0, fmt.Errorf("the panel exited during set-up; see %s", f.panel.logPath)
		}
		if time.Since(lastLog) > 15*time.Second {
			lastLog = time.Now()
			log.Printf("archive: %d of %d hosts synced, %d ban events, %d without country yet (err: %v)", synced, len(f.hosts), events, unresolved, err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the archive: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// archiveState reads how many hosts' cursors reached their last row, how
// many ban events the archive holds and how many events lack a country.
func archiveState(ctx context.Context, db *sql.DB, hosts []*fleetHost) (synced int, events, unresolved int64, err error) {
	for _, h := range hosts {
		var cursor string
		err = db.QueryRowContext(ctx, `SELECT ifnull((SELECT value FROM settings WHERE key = ?), '0')`, repo.SettingArchiveLastRowID+":"+h.id).Scan(&cursor)
		if err != nil {
			return
		}
		if id, _ := strconv.ParseInt(cursor, 10, 64); id >= h.maxRowID {
			synced++
		}
	}
	if err = db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE country_code IS NULL`).Scan(&unresolved); err != nil {
		return
	}
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_time WHERE action = 'ban'`).Scan(&events)
	return
}
