#!/bin/sh
# Checks that the Debian packaging tools `make package-check` needs are installed (building
# the packages from debian/, checking them with lintian, the install test of
# tests/package/deb.sh). As root it installs the missing ones with apt-get; otherwise it
# prints the exact command and fails. What building onevoice itself needs is tools/deps.sh's.
set -eu
PKGS="dpkg-dev debhelper fakeroot lintian build-essential passwd util-linux"
# passwd: userdel (the test removes the servers' users it made); util-linux: setpriv (it
# runs each server as its unit's user).
[ "${ONEVOICE_NO_DEPS:-}" = 1 ] && exit 0
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# onevoice-server makes its users with systemd-sysusers (Depends: systemd |
# systemd-standalone-sysusers): a container without systemd gets the small standalone one
command -v systemd-sysusers > /dev/null 2>&1 || missing="$missing systemd-standalone-sysusers"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps-package: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends $missing >&2
else
    echo "deps-package: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
