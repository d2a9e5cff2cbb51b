#!/usr/bin/env bash
# The demo driver (issue 7) replaces this placeholder-free minimal version:
# until the experiments land it runs the README example.
set -euo pipefail
build=${1:-build}
"$build/examples/readme"
