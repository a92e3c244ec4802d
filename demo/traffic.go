package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"
)

// Target is one log file the traffic goes to and the jail that watches it.
type Target struct {
	Jail     string // "sshd", "nginx-http-auth" or "postfix": decides the line format
	File     string // log file the lines are appended to
	MaxRetry int    // the jail's maxretry: most attacks stop when they reach it
	Weight   int    // share of the attacks, relatively
}

// Traffic appends synthetic failure lines to log files: attackers from the
// pool try passwords over SSH, HTTP basic auth behind nginx and SMTP AUTH
// on postfix, a few at a time and interleaved, and most give up once the
// jail would ban them. Now and then a legitimate line (from a
// documentation-range address, which needs no country) comes in between.
type Traffic struct {
	targets []Target
	pool    *Pool
	rng     *rand.Rand

	mu     sync.Mutex
	active []*attack
	recent map[string]time.Time // jail|ip → when a full attack ended
	files  map[string]*os.File
}

// attack is one attacker working on one service.
type attack struct {
	target *Target
	ip     netip.Addr
	left   int  // lines still to write
	full   bool // reaches maxretry
	user   string
	pid    int
	port   int
}

const (
	maxActive = 3                // attackers at work at the same time
	noiseP    = 0.12             // share of lines that are not failures
	cooldown  = 12 * time.Minute // a banned attacker stays away this long (bantime + a margin)
)

var sshUsers = []string{"root", "admin", "ubuntu", "test", "oracle", "pi", "user", "git", "postgres",
	"deploy", "support", "guest", "ftpuser", "www-data", "jenkins", "hadoop", "minecraft", "debian"}

var mailUsers = []string{"info", "admin", "sales", "contact", "office", "test", "postmaster", "webmaster", "support"}

var webUsers = []string{"admin", "administrator", "root", "user", "manager", "demo", "test", "guest"}

var webPaths = []string{"/admin/", "/private/", "/stats/", "/grafana/", "/backup/", "/monitoring/"}

// NewTraffic returns a generator for the targets with attackers from pool;
// equal seeds give equal traffic.
func NewTraffic(targets []Target, pool *Pool, seed uint64) *Traffic {
	return &Traffic{
		targets: targets,
		pool:    pool,
		rng:     rand.New(rand.NewPCG(seed, 0x74726166)),
		recent:  make(map[string]time.Time),
		files:   make(map[string]*os.File),
	}
}

// Run appends about rate lines per minute, with some jitter, until ctx
// ends. A rate of 0 or less writes nothing and waits for ctx.
func (t *Traffic) Run(ctx context.Context, rate float64) error {
	defer t.close()
	if rate <= 0 || len(t.targets) == 0 {
		<-ctx.Done()
		return nil
	}
	interval := time.Duration(float64(time.Minute) / rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := t.Write(time.Now()); err != nil {
			return err
		}
		t.mu.Lock()
		next := time.Duration(float64(interval) * (0.5 + t.rng.Float64())) // 0.5–1.5 × interval
		t.mu.Unlock()
		timer.Reset(next)
	}
}

// Write appends one line, stamped now, to the log file it belongs to.
func (t *Traffic) Write(now time.Time) error {
	tg, line := t.Next(now)
	f, err := t.file(tg.File)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("demo: write %s: %w", tg.File, err)
	}
	return nil
}

func (t *Traffic) file(path string) (*os.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.files[path]; f != nil {
		return f, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	t.files[path] = f
	return f, nil
}

func (t *Traffic) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for p, f := range t.files {
		f.Close()
		delete(t.files, p)
	}
}

// Next returns the next line and where it goes, without writing it.
func (t *Traffic) Next(now time.Time) (*Target, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.active) == 0 || (len(t.active) < maxActive && t.rng.Float64() < 0.3) {
		t.start(now)
	}
	if t.rng.Float64() < noiseP || len(t.active) == 0 {
		tg := &t.targets[t.rng.IntN(len(t.targets))]
		return tg, t.noise(tg, now)
	}
	i := t.rng.IntN(len(t.active))
	a := t.active[i]
	line := t.failure(a, now)
	if a.left--; a.left == 0 {
		t.active = append(t.active[:i], t.active[i+1:]...)
		if a.full {
			t.recent[a.target.Jail+"|"+a.ip.String()] = now
		}
	}
	return a.target, line
}

// start begins a new attack by an address that is neither at work nor
// (probably) banned in that jail.
func (t *Traffic) start(now time.Time) {
	tg := t.pickTarget()
	for tries := 0; tries < 20; tries++ {
		var ip netip.Addr
		if t.rng.IntN(10) < 3 {
			ip = t.pool.All[t.rng.IntN(min(offenders, len(t.pool.All)))]
		} else {
			ip = t.pool.All[t.rng.IntN(len(t.pool.All))]
		}
		if t.busy(ip) || now.Sub(t.recent[tg.Jail+"|"+ip.String()]) < cooldown {
			continue
		}
		a := &attack{target: tg, ip: ip, left: tg.MaxRetry, full: true,
			pid: 1000 + t.rng.IntN(60000), port: 1024 + t.rng.IntN(64000)}
		if t.rng.IntN(4) == 0 && tg.MaxRetry > 1 {
			a.left, a.full = 1+t.rng.IntN(tg.MaxRetry-1), false // gives up early
		}
		switch tg.Jail {
		case "nginx-http-auth":
			a.user = webUsers[t.rng.IntN(len(webUsers))]
		case "postfix":
			a.user = mailUsers[t.rng.IntN(len(mailUsers))]
		default:
			a.user = sshUsers[t.rng.IntN(len(sshUsers))]
		}
		t.active = append(t.active, a)
		break
	}
	for k, at := range t.recent {
		if now.Sub(at) >= cooldown {
			delete(t.recent, k)
		}
	}
}

func (t *Traffic) busy(ip netip.Addr) bool {
	for _, a := range t.active {
		if a.ip == ip {
			return true
		}
	}
	return false
}

func (t *Traffic) pickTarget() *Target {
	total := 0
	for _, tg := range t.targets {
		total += max(tg.Weight, 1)
	}
	n := t.rng.IntN(total)
	for i := range t.targets {
		if n < max(t.targets[i].Weight, 1) {
			return &t.targets[i]
		}
		n -= max(t.targets[i].Weight, 1)
	}
	return &t.targets[0]
}

// syslogTime is rsyslog's default timestamp on Debian (RFC 3339 with
// microseconds and the offset), which fail2ban reads without guessing the
// year or the zone.
func syslogTime(now time.Time) string { return now.Format("2006-01-02T15:04:05.000000-07:00") }

// nginxTime is nginx's error log timestamp (local time).
func nginxTime(now time.Time) string { return now.Format("2006/01/02 15:04:05") }

// failure formats one failed attempt of a.
func (t *Traffic) failure(a *attack, now time.Time) string {
	ip := a.ip.String()
	port := strconv.Itoa(a.port + t.rng.IntN(50))
	switch a.target.Jail {
	case "nginx-http-auth":
		req := t.rng.Int64N(1 << 20)
		path := webPaths[int(req)%len(webPaths)]
		if t.rng.IntN(3) == 0 {
			return fmt.Sprintf(`%s [error] 812#812: *%d user "%s": password mismatch, client: %s, server: demo.example, request: "GET %s HTTP/1.1", host: "demo.example"`,
				nginxTime(now), req, a.user, ip, path)
		}
		return fmt.Sprintf(`%s [error] 812#812: *%d user "%s" was not found in "/etc/nginx/.htpasswd", client: %s, server: demo.example, request: "GET %s HTTP/1.1", host: "demo.example"`,
			nginxTime(now), req, a.user, ip, path)
	case "postfix":
		mech := "LOGIN"
		if t.rng.IntN(3) == 0 {
			mech = "PLAIN"
		}
		return fmt.Sprintf("%s mail postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL %s authentication failed: UGFzc3dvcmQ6, sasl_username=%s@demo.example",
			syslogTime(now), a.pid, ip, mech, a.user)
	default:
		pid := a.pid + t.rng.IntN(20)
		switch t.rng.IntN(4) {
		case 0:
			return fmt.Sprintf("%s web1 sshd[%d]: Invalid user %s from %s port %s", syslogTime(now), pid, a.user, ip, port)
		case 1:
			return fmt.Sprintf("%s web1 sshd[%d]: Connection closed by authenticating user root %s port %s [preauth]", syslogTime(now), pid, ip, port)
		case 2:
			return fmt.Sprintf("%s web1 sshd[%d]: Failed password for root from %s port %s ssh2", syslogTime(now), pid, ip, port)
		default:
			return fmt.Sprintf("%s web1 sshd[%d]: Failed password for invalid user %s from %s port %s ssh2", syslogTime(now), pid, a.user, ip, port)
		}
	}
}

// noise formats a line that is not a failure, from a documentation-range
// address (a legitimate user; it is never banned, so it needs no country).
func (t *Traffic) noise(tg *Target, now time.Time) string {
	ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + t.rng.IntN(254))}).String()
	pid := 1000 + t.rng.IntN(60000)
	switch tg.Jail {
	case "nginx-http-auth":
		return fmt.Sprintf(`%s [notice] 812#812: *%d "GET /status HTTP/1.1" served from cache, client: %s, server: demo.example`, nginxTime(now), t.rng.Int64N(1<<20), ip)
	case "postfix":
		return fmt.Sprintf("%s mail postfix/submission/smtpd[%d]: connect from unknown[%s]", syslogTime(now), pid, ip)
	default:
		return fmt.Sprintf("%s web1 sshd[%d]: Accepted publickey for deploy from %s port %d ssh2: ED25519 SHA256:Zm9yIHRoZSBkZW1vIG9ubHk", syslogTime(now), pid, ip, 1024+t.rng.IntN(64000))
	}
}
