#!/bin/sh
# Fleet load test (not part of make test): builds the panel and
# scripts/loadgen, then runs the load generator's fleet mode, which starts
# $FLEET_HOSTS private fail2ban servers (package fail2ban/sandbox), each
# with a generated fail2ban database of $FLEET_BANS bans in the last 23
# hours, a `bangui agent` (the built binary) on each, and one panel on its
# own empty fail2ban. It completes the panel's setup, enrols every agent
# through the Hosts page (POST /hosts/probe, compare the fingerprint the
# agent printed, POST /hosts), waits until the archive holds every host's
# bans with their countries, and then times, with $FLEET_RUNS sequential
# requests each: the combined dashboard (24 h; cached, and uncached with
# the archive's version bumped before each request), its table fragment,
# one host's dashboard, the Hosts page and a ban of one address on every
# host through the ban form. Beside them it prints the floors: the sqlite3
# CLI running the dashboard's aggregates on the panel's database, and the
# same ban sent straight to every fail2ban socket with fail2ban-client and
# with BanGUI's socket client, one host after the other and all at once;
# and the RSS of the panel and of one agent. Everything listens on
# loopback only; every process it started is stopped on exit, Ctrl-C or
# SIGTERM (and killed by the kernel if the generator dies). It exits
# non-zero if any request failed. Needs the Debian packages fail2ban and
# sqlite3; run as root. Takes a few minutes.
#
#   scripts/fleet-load.sh                        # 20 hosts, 5,000 bans each
#   FLEET_HOSTS=5 FLEET_RUNS=10 scripts/fleet-load.sh
#
# Settings (environment): FLEET_HOSTS (20), FLEET_BANS (5000),
# FLEET_RUNS (100), LOAD_DIR (${TMPDIR:-/tmp}/bangui-load; the report is
# $LOAD_DIR/fleet-report.txt, the processes' logs are in $LOAD_DIR/fleet),
# LOAD_LISTEN (127.0.0.1:0, loopback only).
set -eu
cd "$(dirname "$0")/.."
dir=${LOAD_DIR:-${TMPDIR:-/tmp}/bangui-load}
mkdir -p "$dir/bin"
echo "fleet-load.sh: building the panel and the load generator into $dir/bin" >&2
go build -o "$dir/bin/bangui" .
go build -o "$dir/bin/loadgen" ./scripts/loadgen
exec "$dir/bin/loadgen" -bin "$dir/bin/bangui" -dir "$dir" -listen "${LOAD_LISTEN:-127.0.0.1:0}" \
	-fleet "${FLEET_HOSTS:-20}" -fleet-bans "${FLEET_BANS:-5000}" -runs "${FLEET_RUNS:-100}"
