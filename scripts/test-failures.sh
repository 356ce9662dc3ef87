#!/usr/bin/env bash
# Prints what failed in a `swift test` log, so that the end of the output (all a CI summary may show) names the
# failing tests and their issues, not only "failed with 1 issue".
set -u
log=${1:?usage: test-failures.sh LOG}
[ -f "$log" ] || exit 0
echo
echo "==== what failed (from $log) ===="
# Swift Testing: the issue line, and its detail lines that follow (indented or starting with ↳).
awk '/recorded an issue/ { print; detail = 8; next }
     detail > 0 && /^([[:space:]]|↳)/ { print; detail--; next }
     { detail = 0 }
     /^✘ (Test|Suite) .* failed/ { print }
     /error: -\[|: error: / { print }' "$log" | cut -c1-600 | head -n 200
echo "==== end of what failed ===="
