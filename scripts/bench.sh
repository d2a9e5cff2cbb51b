#!/usr/bin/env bash
# Runs every benchmark under bench/; each prints its own table of ratios
# against anchors measured in the same run.
set -euo pipefail
build=${1:-build}
for b in "$build"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
