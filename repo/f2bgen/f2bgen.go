// Package f2bgen writes realistic fail2ban databases for tests and
// benchmarks: fail2ban's schema version 4 exactly as fail2ban creates it
// (tables, indexes and the fail2banDb version row), a bans table with many
// rows spread over a time span ending now, the jails table and bips with the
// latest ban per (ip, jail).
//
// The rows look like a busy server's: sshd dominates, then blocklist imports,
// nginx-http-auth, postfix, nginx-botsearch, dovecot and recidive; IPs come
// from a pool in which a small set of repeat offenders is drawn far more often
// than the rest; data holds matches (3-part lists mixed with plain strings, as
// fail2ban writes them) and failures, a few rows have data = 'null', and some
// bans are permanent (bantime -1). The output is deterministic for a given
// Options value (Seed and End included).
package f2bgen

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// DefaultSpan is how far back the generated bans reach unless Options.Span says otherwise.
const DefaultSpan = 400 * 24 * time.Hour

// Options describes the database to generate. Zero fields take defaults.
type Options struct {
	Rows int           // rows in the bans table; 0 gives an empty table
	Span time.Duration // bans fall in (End-Span, End]; default DefaultSpan
	End  time.Time     // newest possible timeofban; default time.Now()
	Seed uint64        // random seed; equal Options give equal databases
	IPs  int           // size of the IP pool; default Rows/5 (at least 16)
}

func (o Options) withDefaults() Options {
	if o.Span <= 0 {
		o.Span = DefaultSpan
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.IPs <= 0 {
		o.IPs = max(o.Rows/5, 16)
	}
	return o
}

// Generate writes a fail2ban database with opts.Rows generated bans to path,
// which must not exist yet.
func Generate(ctx context.Context, path string, opts Options) error {
	if opts.Rows < 0 {
		return fmt.Errorf("f2bgen: negative row count %d", opts.Rows)
	}
	return Write(ctx, path, Rows(opts))
}

// jail describes how one jail's bans look.
type jail struct {
	name       string
	weight     int
	baseBan    int64 // first bantime in seconds
	increment  bool  // bantime doubles with bancount (bantime.increment)
	minFail    int
	maxFail    int
	permanentP float64 // share of bans with bantime -1
	offenders  bool    // draws from the repeat offenders only
}

var jailSpecs = []jail{
	{name: "sshd", weight: 50, baseBan: 600, increment: true, minFail: 5, maxFail: 9, permanentP: 0.005},
	{name: "blocklist-import", weight: 18, baseBan: 86400},
	{name: "nginx-http-auth", weight: 10, baseBan: 3600, increment: true, minFail: 3, maxFail: 6, permanentP: 0.005},
	{name: "postfix", weight: 8, baseBan: 1800, increment: true, minFail: 3, maxFail: 14, permanentP: 0.005},
	{name: "nginx-botsearch", weight: 6, baseBan: 86400, minFail: 2, maxFail: 4},
	{name: "dovecot", weight: 4, baseBan: 1800, increment: true, minFail: 3, maxFail: 8},
	{name: "recidive", weight: 4, baseBan: 604800, minFail: 5, maxFail: 12, permanentP: 0.15, offenders: true},
}

const (
	maxBanTime   = 7 * 24 * 3600 // bantime.maxtime
	nullDataP    = 0.02          // rows whose data is the JSON literal null
	maxMatches   = 10            // fail2ban's dbmaxmatches default
	offenderPart = 20            // 1 in offenderPart pool IPs is a repeat offender
)

var users = []string{"root", "admin", "ubuntu", "test", "oracle", "pi", "user", "git", "postgres", "deploy",
	"o'brien", `quote"d`, `back\slash`, "Jürgen", "管理员", "support", "guest", "ftpuser"}

var paths = []string{"/wp-login.php", "/xmlrpc.php", "/.env", "/phpmyadmin/index.php", "/admin", "/.git/config",
	"/cgi-bin/luci", "/boaform/admin/formLogin", "/vendor/phpunit/src/Util/PHP/eval-stdin.php"}

// Rows returns the bans Generate writes for opts, oldest first.
func Rows(opts Options) iter.Seq[Ban] {
	opts = opts.withDefaults()
	return func(yield func(Ban) bool) {
		g := newGen(opts)
		for i := range opts.Rows {
			if !yield(g.ban(g.times[i])) {
				return
			}
		}
	}
}

type gen struct {
	rng       *rand.Rand
	zipf      *rand.Zipf
	pool      []string
	offenders int
	times     []int64
	wsum      int
	counts    map[int]int64 // bancount so far per ipIndex*len(jailSpecs)+jailIndex
	buf       []byte
}

func newGen(o Options) *gen {
	rng := rand.New(rand.NewPCG(o.Seed, 0x6661696c3262616e)) // "fail2ban"
	g := &gen{rng: rng, counts: make(map[int]int64)}
	seen := make(map[string]bool, o.IPs)
	for len(g.pool) < o.IPs {
		ip := randomIP(rng)
		if !seen[ip] {
			seen[ip] = true
			g.pool = append(g.pool, ip)
		}
	}
	g.offenders = max(len(g.pool)/offenderPart, 1)
	g.zipf = rand.NewZipf(rng, 1.1, 8, uint64(g.offenders-1))
	for _, j := range jailSpecs {
		g.wsum += j.weight
	}
	end, span := o.End.Unix(), int64(o.Span/time.Second)
	g.times = make([]int64, o.Rows)
	for i := range g.times {
		g.times[i] = end - rng.Int64N(span)
	}
	slices.Sort(g.times)
	return g
}

func randomIP(rng *rand.Rand) string {
	if rng.IntN(25) == 0 {
		var b [16]byte
		b[0], b[1] = 0x24, byte(rng.IntN(16)) // 2400::/12-ish, global unicast
		for i := 2; i < 16; i++ {
			b[i] = byte(rng.UintN(256))
		}
		if rng.IntN(2) == 0 { // many IPv6 attackers sit in a /64 with a small host part
			for i := 8; i < 15; i++ {
				b[i] = 0
			}
		}
		return netip.AddrFrom16(b).String()
	}
	for {
		a := byte(1 + rng.IntN(223))
		b := byte(rng.UintN(256))
		if a == 10 || a == 127 || (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) || (a == 169 && b == 254) || (a == 100 && b >= 64 && b < 128) {
			continue
		}
		return netip.AddrFrom4([4]byte{a, b, byte(rng.UintN(256)), byte(1 + rng.IntN(254))}).String()
	}
}

func (g *gen) pickJail() int {
	n := g.rng.IntN(g.wsum)
	for i, j := range jailSpecs {
		if n < j.weight {
			return i
		}
		n -= j.weight
	}
	return 0
}

func (g *gen) pickIP(j jail) int {
	switch {
	case j.offenders:
		return int(g.zipf.Uint64())
	case j.name == "blocklist-import":
		return g.rng.IntN(len(g.pool))
	case g.rng.IntN(5) < 2:
		return int(g.zipf.Uint64())
	default:
		return g.rng.IntN(len(g.pool))
	}
}

func (g *gen) ban(t int64) Ban {
	ji := g.pickJail()
	j := jailSpecs[ji]
	ipi := g.pickIP(j)
	ip := g.pool[ipi]
	key := ipi*len(jailSpecs) + ji
	g.counts[key]++
	count := g.counts[key]

	bantime := j.baseBan
	if j.increment {
		bantime = min(j.baseBan<<min(count-1, 12), maxBanTime)
	}
	if j.permanentP > 0 && g.rng.Float64() < j.permanentP {
		bantime = -1
	}
	return Ban{Jail: j.name, IP: ip, TimeOfBan: t, BanTime: bantime, BanCount: count, Data: g.data(j, ip, t)}
}

// data renders the JSON fail2ban stores in bans.data for one ban.
func (g *gen) data(j jail, ip string, t int64) string {
	if g.rng.Float64() < nullDataP {
		return "null"
	}
	if j.maxFail == 0 { // banned through the socket: no log lines
		return `{"matches": [], "failures": 0}`
	}
	failures := j.minFail + g.rng.IntN(j.maxFail-j.minFail+1)
	n := min(failures, maxMatches)
	user := users[g.rng.IntN(len(users))]
	pid := 1000 + g.rng.IntN(60000)
	allStrings := g.rng.IntN(4) == 0 // rows restored from the database carry strings only
	// The lines lead up to the ban: the first one up to a few minutes earlier.
	var back [maxMatches]int64
	for i := n - 2; i >= 0; i-- {
		back[i] = back[i+1] + 1 + g.rng.Int64N(20)
	}
	b := append(g.buf[:0], `{"matches": [`...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		lt := time.Unix(t-back[i], 0).UTC()
		prefix, date, rest := g.line(j, ip, user, pid, lt)
		if !allStrings && (i == 0 || g.rng.IntN(3) == 0) {
			b = append(b, '[')
			b = appendJSONString(b, prefix)
			b = append(b, ", "...)
			b = appendJSONString(b, date)
			b = append(b, ", "...)
			b = appendJSONString(b, rest)
			b = append(b, ']')
		} else {
			b = appendJSONString(b, prefix+date+rest)
		}
	}
	b = append(b, `], "failures": `...)
	b = strconv.AppendInt(b, int64(failures), 10)
	switch j.name {
	case "sshd":
		b = append(b, `, "mlfid": `...)
		b = appendJSONString(b, " web1 sshd["+strconv.Itoa(pid)+"]: ")
		b = append(b, `, "user": `...)
		b = appendJSONString(b, user)
		b = append(b, `, "users": `...)
		b = appendJSONString(b, "['"+user+"']")
	case "dovecot", "nginx-http-auth":
		b = append(b, `, "user": `...)
		b = appendJSONString(b, user)
	}
	if netip.MustParseAddr(ip).Is4() {
		b = append(b, `, "ip4": `...)
	} else {
		b = append(b, `, "ip6": `...)
	}
	b = appendJSONString(b, ip)
	b = append(b, '}')
	g.buf = b
	return string(b)
}

// line returns one matched log line in fail2ban's tuple form (prefix, date, rest).
func (g *gen) line(j jail, ip, user string, pid int, t time.Time) (string, string, string) {
	port := strconv.Itoa(1024 + g.rng.IntN(64000))
	switch j.name {
	case "sshd":
		if g.rng.IntN(2) == 0 {
			return "", t.Format(time.Stamp), " web1 sshd[" + strconv.Itoa(pid) + "]: Failed password for invalid user " + user + " from " + ip + " port " + port + " ssh2"
		}
		return "", t.Format(time.Stamp), " web1 sshd[" + strconv.Itoa(pid) + "]: Connection closed by authenticating user " + user + " " + ip + " port " + port + " [preauth]"
	case "nginx-http-auth":
		return "", t.Format("2006/01/02 15:04:05"), " [error] 811#811: *" + strconv.Itoa(pid) + ` user "` + user + `" was not found in "/etc/nginx/.htpasswd", client: ` + ip + `, server: example.org, request: "GET /admin/ HTTP/1.1", host: "example.org"`
	case "nginx-botsearch":
		return ip + " - - [", t.Format("02/Jan/2006:15:04:05 -0700"), `] "GET ` + paths[g.rng.IntN(len(paths))] + ` HTTP/1.1" 404 153 "-" "Mozilla/5.0 (compatible; scan)"`
	case "postfix":
		return "", t.Format(time.Stamp), " mail postfix/smtpd[" + strconv.Itoa(pid) + "]: warning: unknown[" + ip + "]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
	case "dovecot":
		return "", t.Format(time.Stamp), " mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<" + user + ">, method=PLAIN, rip=" + ip + ", lip=192.0.2.10, TLS, session=<" + strconv.Itoa(pid) + ">"
	default: // recidive: fail2ban's own log
		return "", t.Format("2006-01-02 15:04:05") + ",123", " fail2ban.actions        [811]: NOTICE  [sshd] Ban " + ip
	}
}

// appendJSONString appends s as a JSON string the way Python's json.dumps
// with ensure_ascii=False writes it.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
