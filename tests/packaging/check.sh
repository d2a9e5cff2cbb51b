#!/usr/bin/env bash
# The packaging test (ctest label `packaging`): a core-only build as a
# user would make it, checked the way a packager would check it.
#   1. configure in a temporary folder with RECYCLE_TOOLS/TESTS/BENCH/EXAMPLES
#      OFF (CMake and a C compiler only), build;
#   2. librecycle.so needs only glibc (libc, libm, libpthread/libdl, and the
#      loader for thread-local storage) and exports only rc_/RC_ names
#      (the internals librecycle-tools calls, rc__*, under RECYCLE_PRIVATE);
#      librecycle.a has no main and no process-wide hook;
#   3. install with DESTDIR;
#   4. examples/readme.c built against the installed tree through
#      find_package(recycle) and through pkg-config, shared and static, run;
#   5. the same program as C++ (g++ and clang++), and both headers as
#      C11/C17/C23 and C++11..C++20.
# Usage: check.sh SOURCE_DIR [WORK_DIR]
set -euo pipefail
src=$(cd "$1" && pwd)
work=${2:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
prefix=/usr/local
dest=$work/dest
root=$dest$prefix
readme=$src/examples/readme.c
fail() { echo "packaging: $*" >&2; exit 1; }
step() { echo "-- $*"; }

step "core-only configure and build"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$prefix \
      -DCMAKE_INSTALL_LIBDIR=lib -DRECYCLE_TOOLS=OFF -DRECYCLE_TESTS=OFF -DRECYCLE_BENCH=OFF \
      -DRECYCLE_EXAMPLES=OFF >"$work/configure.log" || { cat "$work/configure.log"; fail "configure failed"; }
# pkg-config is how every optional package is found: a core-only configure
# must not even look for it.
if grep -Eq '^(PKG_CONFIG_EXECUTABLE|pkgcfg_lib_)' "$work/build/CMakeCache.txt"; then
    fail "a core-only configure looked for packages: $(grep -E '^(PKG_CONFIG_EXECUTABLE|pkgcfg_lib_)' "$work/build/CMakeCache.txt" | tr '\n' ' ')"
fi
cmake --build "$work/build" -j 2 >"$work/build.log" || { tail -30 "$work/build.log"; fail "build failed"; }

step "librecycle.so: NEEDED entries and exported names"
so=$work/build/librecycle.so
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for n in $needed; do
    case $n in
        libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|ld-linux*.so.*) ;;   # all glibc
        *) fail "librecycle.so needs $n (all: $needed)" ;;
    esac
done
echo "   NEEDED: $needed"
bad=$(nm -D --defined-only "$so" | awk '{print $NF}' |
      grep -Ev '^(rc_[a-z0-9]|RC_)|^(rc__[a-z0-9_]+@@)?RECYCLE_PRIVATE$' || true)
[ -z "$bad" ] || fail "librecycle.so exports non-API names: $(echo $bad | head -c 400)"
echo "   exported: $(nm -D --defined-only "$so" | grep -vc RECYCLE_PRIVATE) API names, all rc_/RC_," \
     "and $(nm -D --defined-only "$so" | grep -c '^.* rc__.*@@RECYCLE_PRIVATE$') internals for the tools"
for a in "$work/build/librecycle.a" "$work/build/librecycle-instrument.a"; do
    bad=$(nm --defined-only -g "$a" | awk 'NF == 3 {print $3}' | grep -Ev '^(rc_|RC_|__cyg_profile_func_(enter|exit)$)' || true)
    [ -z "$bad" ] || fail "$(basename "$a") defines names outside rc_/rc__: $(echo $bad | head -c 400)"
done
nm --defined-only -g "$work/build/librecycle.a" | grep -Eq ' (main|__cyg_profile_func_enter|__lsan_default_suppressions)$' &&
    fail "librecycle.a defines main or a process-wide hook"

step "install with DESTDIR"
DESTDIR=$dest cmake --install "$work/build" >"$work/install.log"
for f in include/recycle.h lib/librecycle.so lib/librecycle.a lib/librecycle-instrument.a \
         lib/pkgconfig/recycle.pc lib/cmake/recycle/recycleConfig.cmake; do
    [ -e "$root/$f" ] || fail "not installed: $prefix/$f"
done
[ ! -e "$root/include/recycle-tools.h" ] || fail "a core-only install holds recycle-tools.h"

# Runs a built program: prints what the README says, uses the installed library.
run() {
    local out
    out=$(LD_LIBRARY_PATH=$root/lib "$@") || fail "$1 failed"
    grep -q "rc_gc_collect freed 1 object(s)" <<<"$out" || fail "$1 printed: $out"
}
# Checks how a program links librecycle: shared from the install, or not at all.
links() {
    local needs
    needs=$(readelf -d "$2" | grep -c 'NEEDED.*librecycle' || true)
    case $1 in
        shared) [ "$needs" = 1 ] || fail "$2 does not link librecycle.so" ;;
        static) [ "$needs" = 0 ] || fail "$2 links librecycle.so" ;;
    esac
}

step "CMake consumer: find_package(recycle), recycle::recycle and recycle::recycle_static"
cmake -S "$src/tests/packaging/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$root" \
      -DREADME_C="$readme" >"$work/consumer.log" || { cat "$work/consumer.log"; fail "consumer configure failed"; }
cmake --build "$work/consumer" -j 2 >>"$work/consumer.log" || { tail -30 "$work/consumer.log"; fail "consumer build failed"; }
links shared "$work/consumer/readme_shared"; run "$work/consumer/readme_shared"
links static "$work/consumer/readme_static"; run "$work/consumer/readme_static"

step "pkg-config consumer, shared and static"
export PKG_CONFIG_PATH=$root/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
cflags=$(pkg-config --cflags recycle | xargs)
[ "$cflags" = "-I$root/include" ] || fail "pkg-config --cflags recycle gives '$cflags'"
cc=${CC:-cc}
$cc -o "$work/pc_shared" "$readme" $cflags $(pkg-config --libs recycle)
links shared "$work/pc_shared"; run "$work/pc_shared"
$cc -o "$work/pc_static" "$readme" $cflags \
    $(pkg-config --static --libs recycle | sed 's/-lrecycle\b/-Wl,-Bstatic -lrecycle -Wl,-Bdynamic/')
links static "$work/pc_static"; run "$work/pc_static"

step "the README program as C++ (g++, clang++)"
for cxx in g++ clang++; do
    for std in c++11 c++20; do
        $cxx -std=$std -Wall -Wextra -Werror -pedantic -x c++ "$readme" -x none -o "$work/cxx" \
             $cflags $(pkg-config --libs recycle)
        run "$work/cxx"
    done
done

step "both headers as C11/C17/C23 and C++11..C++20"
printf '#include <recycle.h>\n#include <recycle-tools.h>\nint main(void) { return 0; }\n' >"$work/h.c"
for c in gcc clang; do
    for std in c11 c17 c2x; do
        $c -std=$std -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$work/h.c" -o /dev/null ||
            fail "headers do not compile with $c -std=$std"
    done
done
for cxx in g++ clang++; do
    for std in c++11 c++14 c++17 c++20; do
        $cxx -std=$std -Wall -Wextra -Werror -pedantic -I"$src/include" -x c++ -c "$work/h.c" -o /dev/null ||
            fail "headers do not compile with $cxx -std=$std"
    done
done
echo "packaging: all checks passed"
