#!/usr/bin/env bash
# Installs the Debian packages recycle's optional parts need, when missing
# (docs/dependencies.md says which part needs which).  The core library needs
# none: CMake and a C compiler build it.
#   scripts/deps.sh            install what is missing (apt-get as root;
#                              otherwise print the exact command and fail)
#   scripts/deps.sh --list     print the packages, one set per line
#   scripts/deps.sh --packaging  also the Debian packaging tools
# It always ends with one line saying what it installed, or that nothing
# was missing.
set -euo pipefail

build=(build-essential cmake pkg-config clang libclang-rt-14-dev)
tools=(libplplot-dev plplot-driver-cairo libgraphviz-dev libdw-dev libunwind-dev)
tests=(libcmocka-dev libpng-dev valgrind chromium)
bench=(libgc-dev libmimalloc-dev libjemalloc-dev heaptrack)
demo=(python3 python3-memory-profiler python3-objgraph python3-matplotlib python3-numpy graphviz)
packaging=(debhelper dpkg-dev lintian fakeroot)

sets=(build tools tests bench demo)
case ${1:-} in
  --list)
    for s in "${sets[@]}" packaging; do
      declare -n list=$s
      printf '%-10s %s\n' "$s:" "${list[*]}"
    done
    exit 0 ;;
  --packaging) sets+=(packaging) ;;
  "") ;;
  *) echo "usage: scripts/deps.sh [--list | --packaging]" >&2; exit 2 ;;
esac

packages=()
for s in "${sets[@]}"; do
  declare -n list=$s
  packages+=("${list[@]}")
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: nothing to install (${#packages[@]} packages present)" >&2
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: installed ${missing[*]}" >&2
else
  echo "deps: missing packages; run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
