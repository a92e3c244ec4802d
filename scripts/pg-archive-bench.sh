#!/bin/sh
# PostgreSQL archive benchmark (not part of make test): starts a private
# PostgreSQL cluster in $PG_BENCH_DIR (unix socket only, no TCP), fills
# BanGUI's archive there with 10,000,000 ban events of 20 hosts (once: the
# cluster is kept, delete the directory to start over; the fill takes a
# few minutes and about 5 GB), then times the dashboard's ban table
# (24 h, target < 50 ms), the full combined dashboard (365 d, < 300 ms) and
# the per-IP page (< 30 ms) through the app's own services, each beside
# the psql floor of the same statements, as medians of several runs with
# the ratio from the same run. Needs the Debian packages postgresql and
# fail2ban (the per-IP page asks a private fail2ban sandbox); as
# root the cluster runs as the postgres user.
#
#   scripts/pg-archive-bench.sh
#   PG_BENCH_ROWS=1000000 PG_BENCH_RUNS=15 scripts/pg-archive-bench.sh
#
# Settings (environment): PG_BENCH_DIR (${TMPDIR:-/tmp}/bangui-pg-bench),
# PG_BENCH_ROWS (10000000), PG_BENCH_HOSTS (20), PG_BENCH_RUNS (9),
# PG_BINDIR (the newest /usr/lib/postgresql/*/bin), PG_BENCH_SHARED_BUFFERS (2GB).
set -eu
cd "$(dirname "$0")/.."
dir=${PG_BENCH_DIR:-${TMPDIR:-/tmp}/bangui-pg-bench}
rows=${PG_BENCH_ROWS:-10000000}
bin=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
	echo "pg-archive-bench.sh: PostgreSQL server binaries not found (install the Debian package postgresql, or set PG_BINDIR)" >&2
	exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
data="$dir/data-$rows"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
if [ ! -d "$data" ]; then
	as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
fi
log="$dir/server.log"
as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-k $dir -c listen_addresses= \
 -c shared_buffers=${PG_BENCH_SHARED_BUFFERS:-2GB} -c work_mem=64MB -c effective_cache_size=12GB \
 -c maintenance_work_mem=1GB -c max_wal_size=8GB -c random_page_cost=1.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null' EXIT INT TERM
as_pg psql -X -q -h "$dir" -U postgres -d postgres -c 'CREATE DATABASE bench' 2>/dev/null || true
go build -o "$dir/pg-archive-bench" ./scripts/pg-archive-bench
"$dir/pg-archive-bench" -database "postgres://postgres@/bench?host=$dir" -server-log "$log" \
	-psql "host=$dir user=postgres dbname=bench" -rows "$rows" -hosts "${PG_BENCH_HOSTS:-20}" -runs "${PG_BENCH_RUNS:-9}" \
	| tee "$dir/report-$rows.txt"
