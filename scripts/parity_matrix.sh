#!/usr/bin/env bash
# Runs scripts/parity.sh for every groupby (week, month, none, day), each
# without splits and with both --split-week and --split-day, and prints one
# line per combination with the mismatch count of compare.py.
#
# Usage: scripts/parity_matrix.sh RECORDS_DIR [ANTENNAS_CSV] [-- OPTIONS...]
#   OPTIONS are added to every run (e.g. --summary true). The environment of
#   parity.sh applies (BANDICOOT_BIN, REF_VENV, SHARED, COMPARE_ARGS).
# Exits 1 when any combination differs or fails to run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

inputs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    inputs+=("$1")
    shift
done
[ $# -gt 0 ] && shift
extra=("$@")
if [ ${#inputs[@]} -lt 1 ] || [ ${#inputs[@]} -gt 2 ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

worst=0
for groupby in week month none day; do
    for splits in "" "--split-week --split-day"; do
        # $splits is split on blanks on purpose: it holds two flags.
        # shellcheck disable=SC2206
        opts=(--groupby "$groupby" $splits "${extra[@]}")
        out=$("$here/parity.sh" "${inputs[@]}" -- "${opts[@]}" 2>&1)
        status=$?
        # compare.py ends with "mismatches: N of M"; anything else means a
        # run failed before the comparison.
        line=$(printf '%s\n' "$out" | grep '^mismatches: ' | tail -n 1)
        if [ -n "$line" ]; then
            result=${line#mismatches: }
        else
            result="error: $(printf '%s\n' "$out" | tail -n 1)"
        fi
        printf '%-6s %-26s %s\n' "$groupby" "${splits:-no splits}" "$result"
        [ $status = 0 ] || worst=1
    done
done
exit $worst
