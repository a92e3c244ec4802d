#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are installed. As root it
# installs the missing ones; otherwise it names them and carries on (the
# tests that need them skip, or fail when CI=true).
set -euo pipefail
need=()
command -v fail2ban-server >/dev/null 2>&1 || need+=(fail2ban)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
# PostgreSQL's server binaries: Debian keeps initdb off PATH, in
# /usr/lib/postgresql/<version>/bin (internal/pgtest looks there too).
have_initdb() {
  command -v initdb >/dev/null 2>&1 && return 0
  for f in /usr/lib/postgresql/*/bin/initdb; do [ -x "$f" ] && return 0; done
  return 1
}
have_initdb || need+=(postgresql)
# promtool and prometheus: the metrics tests check and scrape /metrics.
{ command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; } || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages for the tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian packages may start services we do not want: tests run their own.
  # (postgresql creates and starts a system cluster; the tests start a
  # private one on its own socket and need it not.)
  systemctl disable --now fail2ban nginx postgresql prometheus >/dev/null 2>&1 || true
  service fail2ban stop >/dev/null 2>&1 || true
  service nginx stop >/dev/null 2>&1 || true
  service postgresql stop >/dev/null 2>&1 || true
  service prometheus stop >/dev/null 2>&1 || true
else
  echo "Missing Debian packages for the full test suite: ${need[*]}"
  case " ${need[*]} " in *" postgresql "*)
    echo "Without postgresql the repository tests on PostgreSQL are skipped (initdb not found)." ;;
  esac
  echo "Install them with: sudo apt-get install ${need[*]}"
fi
