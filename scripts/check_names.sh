#!/usr/bin/env bash
# Fails when a comment or a document names a source file that is not in the
# tree: every word ending in .c or .h, or a path like src/core/gc.c, in
# docs/, the README, the comments of the C sources, and the scripts and
# build files must name a file that exists.  A path from the top of
# the tree (src/..., tests/...) must exist as written; a bare name or any
# other path must exist somewhere under that name.  The other projects'
# files cited as models are listed in scripts/names.allow.
#   usage: scripts/check_names.sh [SOURCE_DIR]
set -euo pipefail
export LC_ALL=C
cd "${1:-$(dirname "$0")/..}"

top='src|include|tools|tests|bench|examples|fuzz|scripts|cmake|docs|debian'
names=$(mktemp)
trap 'rm -f "$names"' EXIT
find . \( -path './.*' -o -path './build*' -o -path './demo-out' \) -prune -o -name '*.[ch]' -print | sed 's|^\./||' > "$names"
allow=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/names.allow | awk '{ print $1 }')

# Whether the word w (a file name, perhaps with a path) names a file here.
known() {
    local w=${1#/}
    w=${w#./}
    while [[ $w == ../* ]]; do w=${w#../}; done
    if [[ $w == *'*'* ]]; then              # a pattern: it must match a file
        local re; re=$(sed -e 's/[.]/\\./g' -e 's|[*]|[^/]*|g' <<<"$w")
        if [[ $w =~ ^($top)/ ]]; then
            grep -qE "^$re\$" "$names"
        else
            grep -qE "(^|/)$re\$" "$names"
        fi
        return
    fi
    if [[ $w =~ ^($top)/ ]]; then
        grep -qxF "$w" "$names"
        return
    fi
    grep -qE "(^|/)${w//./\\.}\$" "$names" && return
    grep -qxF "$w" <<<"$allow" || grep -qxF "$(basename "$w")" <<<"$allow"
}

# The text of f that names files: a C file's comments (its code and
# strings are the compiler's business), any other file whole.
text_of() {
    case "$1" in
        *.[ch]) awk -f scripts/c_comments.awk "$1" ;;
        *)      cat "$1" ;;
    esac
}

# The words of a file that look like C file names (<system/headers.h> are
# the system's; a path under a shell variable, $dir/x.c, is made at run time).
words_of() {
    text_of "$1" | sed -E -e 's/<[A-Za-z0-9_/.+-]+\.h>//g' \
                          -e 's/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\/[A-Za-z0-9_./-]*//g' |
        grep -oE '[A-Za-z0-9_./*-]*[A-Za-z0-9_*]\.[ch]\b' | grep -vE '^\.' | sort -u || true
}

# Folders named from the top of the tree (src/core/, tools/recycle/).
dirs_of() {
    text_of "$1" | grep -oE "(^|[^A-Za-z0-9_./\$-])($top)/([A-Za-z0-9_-]+/)*" |
        sed -E 's/^[^a-z]//' | sort -u || true
}

bad=0
files=$( (ls README.md docs/*.md; find src include tools tests bench examples fuzz scripts cmake .ci \
          -type f \( -name '*.[ch]' -o -name '*.sh' -o -name '*.cmake' -o -name '*.awk' -o -name run \); \
          ls CMakeLists.txt Makefile) 2>/dev/null | sort -u)
for f in $files; do
    for w in $(words_of "$f"); do
        known "$w" || { echo "check_names: $f names $w, which is not in the tree" >&2; bad=1; }
    done
    for d in $(dirs_of "$f"); do
        [ -d "$d" ] || { echo "check_names: $f names the folder $d, which is not in the tree" >&2; bad=1; }
    done
done
[ "$bad" = 0 ] && echo "check_names: every file named in comments and docs exists"
exit "$bad"
