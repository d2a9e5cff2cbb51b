#!/usr/bin/env bash
# Builds the Debian packages (librecycle0, librecycle-tools0, librecycle-dev,
# recycle) from the working tree with dpkg-buildpackage, then checks them
# with lintian (failing on any error).  The packaging tools are installed
# by `scripts/deps.sh --packaging`.  The build runs in a temporary copy, so
# nothing is written beside the source tree; the packages land in OUT.
#   scripts/package.sh [OUT]     (default build-deb/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build-deb}" && cd "${1:-build-deb}" && pwd)
scripts/deps.sh --packaging

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/recycle"
tar --exclude='./build*' --exclude=./demo-out --exclude=./.git -cf - . | tar -xf - -C "$work/recycle"
echo "package: dpkg-buildpackage -us -uc -b (log: $out/build.log)"
if ! (cd "$work/recycle" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/

for deb in "$out"/*.deb; do
    echo "== $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
    dpkg -c "$deb" | awk '$6 !~ /\/$/ {print "   " $6 ($7 ? " " $7 " " $8 : "")}'
done
echo "package: lintian"
lintian --fail-on error --display-level '>=warning' "$out"/*.changes
echo "package: lintian found no errors"
