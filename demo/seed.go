package demo

import (
	"context"
	"fmt"
	"iter"
	"net/netip"
	"strings"
	"time"

	"bangui/repo/f2bgen"
)

// bansPerDay is how busy the seeded history is: a small server's worth.
const bansPerDay = 140

// seedJails are the jails whose past bans the seed keeps: the demo's own.
var seedJails = map[string]bool{"sshd": true, "nginx-http-auth": true, "postfix": true, "recidive": true, "blocklist-import": true}

// SeedHistory writes a fail2ban database (fail2ban's own schema, see
// repo/f2bgen) to path, which must not exist, with days of past bans of the
// demo's jails ending at end: repo/f2bgen's realistic rows (jails, ban
// times and counts, matches) with the addresses replaced by the pool's, so
// their countries are known. It returns how many bans it wrote.
func SeedHistory(ctx context.Context, path string, pool *Pool, days int, end time.Time) (int, error) {
	if days <= 0 {
		return 0, nil
	}
	opts := f2bgen.Options{
		Rows: days * bansPerDay,
		Span: time.Duration(days) * 24 * time.Hour,
		End:  end,
		Seed: 10,
		IPs:  poolV4 * 5 / 6, // distinct addresses fit into the pool without reuse
	}
	n := 0
	rows := remap(f2bgen.Rows(opts), pool, &n)
	if err := f2bgen.Write(ctx, path, rows); err != nil {
		return 0, fmt.Errorf("demo: seed history: %w", err)
	}
	return n, nil
}

// remap keeps the demo's jails and gives each generated address one of the
// pool (IPv4 for IPv4, IPv6 for IPv6, in order of first appearance, so the
// generator's repeat offenders become the pool's first addresses).
func remap(in iter.Seq[f2bgen.Ban], pool *Pool, count *int) iter.Seq[f2bgen.Ban] {
	return func(yield func(f2bgen.Ban) bool) {
		to := map[string]string{}
		n4, n6 := 0, 0
		for b := range in {
			if !seedJails[b.Jail] {
				continue
			}
			ip, ok := to[b.IP]
			if !ok {
				a, err := netip.ParseAddr(b.IP)
				if err != nil {
					continue
				}
				if a.Is4() {
					ip = pool.V4[n4%len(pool.V4)].String()
					n4++
				} else {
					ip = pool.V6[n6%len(pool.V6)].String()
					n6++
				}
				to[b.IP] = ip
			}
			b.Data = replaceAddr(b.Data, b.IP, ip)
			b.IP = ip
			*count++
			if !yield(b) {
				return
			}
		}
	}
}

// replaceAddr replaces every occurrence of the address old in s by repl,
// where it stands alone (not inside a longer address or number).
func replaceAddr(s, old, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(old)
		if (i > 0 && addrChar(s[i-1])) || (j < len(s) && addrChar(s[j])) {
			b.WriteString(s[:j])
		} else {
			b.WriteString(s[:i])
			b.WriteString(repl)
		}
		s = s[j:]
	}
}

func addrChar(c byte) bool {
	return c == '.' || c == ':' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
