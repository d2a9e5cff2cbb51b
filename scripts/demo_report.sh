# Writers for the demo's two reports, sourced by scripts/demo.sh: every
# call appends the same content to $out/REPORT.md (Markdown) and to
# $out/index.html (one self-contained page: plots embedded as data URIs,
# each experiment's text on the left and its plots on the right).
#
# HTML of the section being written is held in sec_text / sec_figs until
# section_end, so figures can sit beside the text that describes them.

md_file() { printf '%s\n' "$out/REPORT.md"; }

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

# Inline Markdown we use (`code`, **bold**) as HTML.
html_inline() {
    html_escape | sed -e 's/`\([^`]*\)`/<code>\1<\/code>/g' -e 's/\*\*\([^*]*\)\*\*/<b>\1<\/b>/g'
}

in_section=0
sec_text=""
sec_figs=""

emit_html() {
    if [ $in_section = 1 ]; then sec_text+="$1"$'\n'; else printf '%s\n' "$1" >>"$out/index.html"; fi
}

report_begin() {
    printf '# %s\n\n' "$1" >"$out/REPORT.md"
    cat >"$out/index.html" <<EOF
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$(printf '%s' "$1" | html_escape)</title>
<style>
body { font-family: sans-serif; max-width: 1700px; margin: 1em auto; padding: 0 1em; color: #222; }
section { display: flex; flex-wrap: wrap; gap: 1.5em; border-top: 1px solid #ccc; padding-top: .5em; }
section .text { flex: 1 1 40em; min-width: 30em; }
section .figs { flex: 1 1 45em; }
section .figs figure { margin: 0 0 1em 0; }
section .figs img { max-width: 100%; border: 1px solid #ddd; }
pre { background: #f4f4f4; padding: .5em; overflow-x: auto; font-size: 85%; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #bbb; padding: .2em .6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.na { color: #a00; }
</style></head><body>
<h1>$(printf '%s' "$1" | html_escape)</h1>
EOF
}

report_end() {
    printf '</body></html>\n' >>"$out/index.html"
}

section_begin() {
    printf '\n## %s\n\n' "$1" >>"$out/REPORT.md"
    printf '<h2>%s</h2>\n<section>\n' "$(printf '%s' "$1" | html_escape)" >>"$out/index.html"
    in_section=1; sec_text=""; sec_figs=""
}

section_end() {
    {
        printf '<div class="text">\n%s</div>\n' "$sec_text"
        [ -n "$sec_figs" ] && printf '<div class="figs">\n%s</div>\n' "$sec_figs"
        printf '</section>\n'
    } >>"$out/index.html"
    in_section=0
}

para() {
    printf '%s\n\n' "$1" >>"$out/REPORT.md"
    emit_html "<p>$(printf '%s' "$1" | html_inline)</p>"
}

# A note that something could not be shown, and why.
missing() {
    printf '*%s*\n\n' "$1" >>"$out/REPORT.md"
    emit_html "<p class=\"na\"><i>$(printf '%s' "$1" | html_inline)</i></p>"
}

# code_block: stdin as preformatted text.
code_block() {
    local text
    text=$(cat)
    printf '```\n%s\n```\n\n' "$text" >>"$out/REPORT.md"
    emit_html "<pre>$(printf '%s' "$text" | html_escape)</pre>"
}

# table "head|head|..." "cell|cell|..." ...
table() {
    local head=$1 row cells html bars=${1//[^|]/} rule="---|" k
    shift
    for ((k = 0; k < ${#bars}; k++)); do rule+="---|"; done   # a column per field
    printf '| %s |\n' "${head//|/ | }" >>"$out/REPORT.md"
    printf '|%s\n' "$rule" >>"$out/REPORT.md"
    html="<table><tr><th>$(printf '%s' "$head" | html_inline | sed 's/|/<\/th><th>/g')</th></tr>"
    for row in "$@"; do
        printf '| %s |\n' "${row//|/ | }" >>"$out/REPORT.md"
        cells=$(printf '%s' "$row" | html_inline | sed 's/|/<\/td><td>/g')
        html+="<tr><td>$cells</td></tr>"
    done
    printf '\n' >>"$out/REPORT.md"
    emit_html "$html</table>"
}

# figure FILE.png CAPTION: beside the text in HTML, inline in Markdown.
figure() {
    local png=$1 caption=$2
    if [ ! -s "$png" ]; then
        missing "Plot $(basename "$png") was not produced."
        return
    fi
    printf '![%s](%s)\n\n*%s*\n\n' "$caption" "$(basename "$png")" "$caption" >>"$out/REPORT.md"
    sec_figs+="<figure><img alt=\"$(printf '%s' "$caption" | html_escape)\" src=\"data:image/png;base64,$(base64 -w0 "$png")\"><figcaption>$(printf '%s' "$caption" | html_inline)</figcaption></figure>"$'\n'
}
