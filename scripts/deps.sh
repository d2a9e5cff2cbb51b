#!/usr/bin/env bash
# Installs the Debian packages recycle needs, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libcmocka-dev                      # tests
  libgc-dev libmimalloc-dev libjemalloc-dev   # benchmark anchors
  python3 python3-memory-profiler python3-objgraph python3-matplotlib  # CPython anchors, mprof
  python3-numpy graphviz             # demo: CPython's array variant; dot for objgraph
  libplplot-dev plplot-driver-cairo  # charts (recycle plot)
  libgraphviz-dev                    # object graphs (show_refs)
  libdw-dev libunwind-dev            # native stacks for the tracer
  libpng-dev                         # tests decode the PNGs we draw
  heaptrack valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps.sh: missing packages; run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
