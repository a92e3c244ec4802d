#!/bin/sh
# Load test: builds the panel and scripts/loadgen, then runs the load
# generator, which starts a private fail2ban-server and the panel on
# loopback against a generated fail2ban database (cached per day in
# $LOAD_DIR), logs in and drives the panel while LOAD_STREAMS live event
# streams (GET /events, the live pages' one per tab) stay open on the same
# panel and a new ban reaches fail2ban every LOAD_BAN_EVERY. It prints
# requests per second, median and p99 latency per endpoint class, errors,
# the panel's peak RSS and what the streams got (events per stream by name,
# heartbeats, reconnects, errors), writes the same report to
# $LOAD_DIR/load-report.txt and exits non-zero if any request or stream
# failed. Needs the Debian package fail2ban; run as root.
#
#   scripts/load.sh                              # 60 s, 50 clients, 1,000,000 bans
#   LOAD_DURATION=20s LOAD_CLIENTS=10 scripts/load.sh
#
# Settings (environment): LOAD_DURATION (60s), LOAD_CLIENTS (50),
# LOAD_ROWS (1000000), LOAD_DIR (${TMPDIR:-/tmp}/bangui-load),
# LOAD_LISTEN (127.0.0.1:0, loopback only), LOAD_STREAMS (50; 0: none),
# LOAD_BAN_EVERY (1s; 0: no bans during the run).
set -eu
cd "$(dirname "$0")/.."
dir=${LOAD_DIR:-${TMPDIR:-/tmp}/bangui-load}
mkdir -p "$dir/bin"
echo "load.sh: building the panel and the load generator into $dir/bin" >&2
go build -o "$dir/bin/bangui" .
go build -o "$dir/bin/loadgen" ./scripts/loadgen
exec "$dir/bin/loadgen" -bin "$dir/bin/bangui" -dir "$dir" \
	-duration "${LOAD_DURATION:-60s}" -clients "${LOAD_CLIENTS:-50}" \
	-rows "${LOAD_ROWS:-1000000}" -listen "${LOAD_LISTEN:-127.0.0.1:0}" \
	-streams "${LOAD_STREAMS:-50}" -ban-every "${LOAD_BAN_EVERY:-1s}"
