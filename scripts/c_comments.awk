# Prints the comments of a C file (/* ... */ and // ...), one output line
# per source line they cover; code and string literals are left out.
BEGIN { incom = 0 }
{
    out = ""; line = $0; n = length(line); i = 1; instr = 0
    while (i <= n) {
        c = substr(line, i, 1); two = substr(line, i, 2)
        if (incom) {
            if (two == "*/") { incom = 0; i += 2; continue }
            out = out c
        } else if (instr) {
            if (c == "\\") { i += 2; continue }
            if (c == instr) instr = 0
        } else if (two == "/*") {
            incom = 1; i += 2; continue
        } else if (two == "//") {
            out = out " " substr(line, i + 2); break
        } else if (c == "\"" || c == "'") {
            instr = c
        }
        i++
    }
    print out
}
