#!/usr/bin/env bash
# Fails when a layer reaches up: an #include, or (given a build folder) a
# call or data reference, from a folder of src/ to one above it.  The
# order is docs/architecture.md's:
#   prim ← alloc ← core ← types ← trace, profile, graph ← tools/recycle
# trace, profile and graph are siblings: none may use another.  The public
# headers in include/ are the contract every layer may read.
# The few edges that run up on purpose are listed, with why, in
# scripts/layers.allow.  Given a build folder, it also fails when a file
# outside src/prim/ calls the OS (the POSIX and Linux entry points below,
# os_calls); ISO C's library is everyone's.  src/trace/preload/ is the
# exception: it is an interposition of the OS's allocation functions and
# resolves and calls the real ones itself.
#   usage: scripts/check_layers.sh [SOURCE_DIR [BUILD_DIR]]
set -euo pipefail
export LC_ALL=C
src_root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
build=${2:-}
cd "$src_root"

# The layer of a path below the source root: "rank name", or nothing.
layer_of() {
    case "$1" in
        src/prim/*)    echo "0 prim" ;;
        src/alloc/*)   echo "1 alloc" ;;
        src/core/*)    echo "2 core" ;;
        src/types/*)   echo "3 types" ;;
        src/trace/*)   echo "4 trace" ;;
        src/profile/*) echo "4 profile" ;;
        src/graph/*)   echo "4 graph" ;;
        tools/*)       echo "5 program" ;;
    esac
}

# True (0) when a file of layer $1 may use layer $2.
may_use() {
    local a=($1) b=($2)
    [ "${a[1]}" = "${b[1]}" ] || [ "${b[0]}" -lt "${a[0]}" ]
}

bad=0
complain() { echo "check_layers: $*" >&2; bad=1; }

# scripts/layers.allow: "using-path used why...", comments with #.
allow=$(mktemp)
used=$(mktemp)
trap 'rm -f "$allow" "$used"' EXIT
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/layers.allow | awk '{ print $1, $2 }' > "$allow"

# True (0) when layers.allow lets file $1 use $2 (a header or a symbol).
allowed() {
    local from to
    while read -r from to; do
        if [ "$to" = "$2" ] && [[ "$1" == "$from"* ]]; then
            echo "$from $to" >> "$used"
            return 0
        fi
    done < "$allow"
    return 1
}

# Where an #include "x" of file f resolves: beside f, then src/, then include/.
resolve() {
    local dir; dir=$(dirname "$1")
    for cand in "$dir/$2" "src/$2" "include/$2"; do
        if [ -f "$cand" ]; then realpath --relative-to=. "$cand"; return; fi
    done
}

check_includes() {
    local f inc target from to
    while IFS= read -r f; do
        from=$(layer_of "$f")
        [ -n "$from" ] || continue
        while IFS= read -r inc; do
            target=$(resolve "$f" "$inc")
            if [ -z "$target" ]; then
                complain "$f includes \"$inc\", which is not in the tree"
                continue
            fi
            to=$(layer_of "$target")
            [ -z "$to" ] || may_use "$from" "$to" || allowed "$f" "$target" ||
                complain "$f (${from#* }) includes $target (${to#* }), a layer above it"
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    done < <(find src tools -name '*.[ch]' | sort)
}

# The object files the build makes now, by source path .../src/<folder>/
# <file>.o: those CMake's DependInfo.cmake lists (objects of an older layout
# may linger in the build folder), else every one found.  The preload
# library's are left out: it defines malloc itself.
objects() {
    local infos info
    infos=$(find "$build" -path '*/CMakeFiles/*.dir/DependInfo.cmake')
    if [ -n "$infos" ]; then
        for info in $infos; do
            grep -oE '"CMakeFiles/[^"]+\.c\.o"' "$info" | tr -d '"' |
                sed "s|^|$(dirname "$(dirname "$(dirname "$info")")")/|"
        done
    else
        find "$build" -path '*/CMakeFiles/*' -name '*.c.o'
    fi | grep '/src/' | grep -v '/preload/' | sort -u |
        while read -r o; do [ ! -f "$o" ] || echo "$o"; done
}

check_symbols() {
    local objs defs o rel from sym to
    objs=$(objects)
    [ -n "$objs" ] || { complain "no object files of src/ under $build"; return; }
    defs=$(mktemp)
    for o in $objs; do
        rel=src/${o##*/src/}
        nm -g --defined-only "$o" | awk -v f="$rel" 'NF == 3 { print $3, f }'
    done | sort -u > "$defs"
    for o in $objs; do
        rel=src/${o##*/src/}
        from=$(layer_of "$rel")
        while read -r sym to; do
            to=$(layer_of "$to")
            may_use "$from" "$to" || allowed "$rel" "$sym" ||
                complain "${rel%.o} (${from#* }) uses $sym of the ${to#* } layer, above it"
        done < <(nm -u "$o" | awk '{ print $2 }' | sort -u | join - "$defs")
    done
    rm -f "$defs"
}

# The OS's entry points: descriptors, files and folders, mappings,
# processes, signals, clocks, threads, the dynamic loader.
os_calls='^(open(at)?(64)?|creat|p?read(64|v)?|p?write(64|v)?|close|lseek(64)?|f?stat(at)?(64)?|lstat(64)?'\
'|access|readlink|unlink(at)?|mkdir|rmdir|(fd)?opendir|readdir(64)?|closedir|realpath|chdir|dup[23]?|pipe2?'\
'|fcntl|ioctl|poll|select|f?sync|fdatasync|f?truncate|mmap(64)?|munmap|mremap|madvise|mprotect|msync|v?fork'\
'|exec[lv]p?e?|posix_spawnp?|wait(pid|id|3|4)?|kill|getpp?id|gettid|syscall|sig(action|procmask|altstack)'\
'|clock_gettime|gettimeofday|nanosleep|u?sleep|sysconf|[gs]etrlimit|prctl|ptrace|process_vm_readv'\
'|dl(open|sym|close|error|addr1?|_iterate_phdr)|pthread_[a-z_]+|sched_yield|getauxval|isatty)$'

check_os_calls() {
    local o rel sym
    for o in $(objects); do
        rel=src/${o##*/src/}
        case "$rel" in src/prim/*) continue ;; esac
        for sym in $(nm -u "$o" | awk '{ print $2 }' | grep -E "$os_calls"); do
            complain "${rel%.o} calls $sym, an OS call outside src/prim/"
        done
    done
}

check_includes
[ -z "$build" ] || check_symbols
[ -z "$build" ] || check_os_calls
# Symbols in debug builds only are not seen in others: stale entries are
# reported, not failed.
[ -z "$build" ] || sort -u "$used" | comm -13 - <(sort -u "$allow") |
    while read -r from to; do echo "check_layers: note: layers.allow's \"$from $to\" is not used"; done
[ "$bad" = 0 ] && echo "check_layers: every include${build:+ and call} runs downward," \
    "but for the $(sort -u "$used" | wc -l) edges scripts/layers.allow names${build:+; every OS call is in src/prim/}"
exit "$bad"
