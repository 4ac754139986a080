#!/bin/sh
# Checks that every Debian package onevoice needs is installed. As root it installs
# the missing ones with apt-get; otherwise it prints the exact command and fails.
set -eu
PKGS="gcc clang make pkg-config libsodium-dev libsqlite3-dev libmicrohttpd-dev libcbor-dev
libssl-dev libcurl4-openssl-dev libjansson-dev libgnutls28-dev openssl curl sqlite3 python3
libclang-rt-14-dev ca-certificates"
# ca-certificates: the system's CA store every https:// client verifies against; installing
# with --no-install-recommends leaves it out otherwise, and no certificate then verifies.
[ "${ONEVOICE_NO_DEPS:-}" = 1 ] && exit 0
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends $missing >&2
else
    echo "deps: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
