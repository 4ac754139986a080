#!/bin/sh
# Checks that every Debian package onevoice needs is installed. As root it installs
# the missing ones with apt-get; otherwise it prints the exact command and fails.
# `deps.sh` alone: what building and running need (make, make demo). `deps.sh package`:
# also what make package-check needs. `deps.sh test`: also what the tests need (make test,
# make check): the browser, Node, and the test tooling from npm (tests/web: playwright-core,
# pinned by its package-lock.json) when tests/web/node_modules is missing.
set -eu
PKGS="gcc clang make pkg-config libsodium-dev libsqlite3-dev libmicrohttpd-dev libcbor-dev
libssl-dev libcurl4-openssl-dev libjansson-dev libgnutls28-dev openssl curl sqlite3 python3
libclang-rt-14-dev ca-certificates"
# ca-certificates: the system's CA store every https:// client verifies against; installing
# with --no-install-recommends leaves it out otherwise, and no certificate then verifies.
TESTS=0
[ "${1:-}" = test ] && TESTS=1
if [ "${1:-}" = package ]; then
    # make package-check: building the packages (debian/), lintian, and the install test
    # (tests/package/deb.sh: passwd's userdel removes the users it made, util-linux's setpriv
    # runs each server as its unit's user). onevoice-server makes its users with
    # systemd-sysusers (Depends: systemd | systemd-standalone-sysusers): a container without
    # systemd gets the small standalone one.
    PKGS="$PKGS dpkg-dev debhelper fakeroot lintian build-essential passwd util-linux"
    command -v systemd-sysusers >/dev/null 2>&1 || PKGS="$PKGS systemd-standalone-sysusers"
fi
if [ $TESTS = 1 ]; then
    # chromium: the transparency page's tests run in it (headless); fonts-wqy-zenhei: CJK
    # glyphs, so that the Traditional Chinese page's screenshots show text, not boxes.
    # node and npm drive it (tests/web): Debian's nodejs and npm, unless a node is there.
    PKGS="$PKGS chromium fonts-wqy-zenhei"
    command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
    command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
[ "${ONEVOICE_NO_DEPS:-}" = 1 ] && exit 0
# one dpkg-query for them all (this runs on every build)
# shellcheck disable=SC2086
have=" $(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null |
    awk '/install ok installed$/ { printf "%s ", $1 }' || true) "
missing=""
for p in $PKGS; do
    case $have in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ]; then
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
fi
# the browser tests' driver, exactly as package-lock.json pins it (not committed: .gitignore)
web=$(dirname "$0")/../tests/web
if [ $TESTS = 1 ] && [ ! -d "$web/node_modules/playwright-core" ]; then
    echo "deps: npm ci in tests/web (playwright-core)" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
