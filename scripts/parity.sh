#!/usr/bin/env bash
# Runs the Python reference and our binary on the same input and compares
# their outputs with the reference's compare.py; exits with its status.
#
# Usage: scripts/parity.sh RECORDS_DIR [ANTENNAS_CSV] [-- OPTIONS...]
#   OPTIONS are reference_batch.py options (--groupby month --summary true
#   --split-week --attributes DIR --recharges DIR ...), plus --stats default|extended, which the reference
#   gets through scripts/reference_batch_stats.py. For our binary, `--network true` / `--summary true`
#   become the bare flags (and are dropped when false); others are passed
#   as they are. --output-dir is ignored: both runs get a temporary one.
#
# Environment:
#   BANDICOOT_BIN  our binary; default
#                  ${CARGO_TARGET_DIR:-$HOME/.cache/bandicoot-target}/release/bandicoot
#   REF_VENV       the reference venv; default <repo>/../ref-venv (created
#                  with setup.sh when missing)
#   SHARED         the directory holding reference/; default <repo>/../shared
#   COMPARE_ARGS   extra compare.py options, e.g. "--allow-extra-ok --show 50"
#   KEEP=1         keep the two output directories and print where they are
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
shared=$(cd "${SHARED:-$repo/../shared}" && pwd)
reference=$shared/reference
venv=${REF_VENV:-$repo/../ref-venv}
bin=${BANDICOOT_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/bandicoot-target}/release/bandicoot}

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

positional=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
        -h | --help) usage ;;
        *) positional+=("$1") ;;
    esac
    shift
done
[ $# -gt 0 ] && shift # the "--"
options=("$@")
if [ ${#positional[@]} -lt 1 ] || [ ${#positional[@]} -gt 2 ]; then
    usage
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "no reference venv at $venv: creating it" >&2
    sh "$reference/setup.sh" "$venv" >&2
fi
if [ ! -x "$bin" ]; then
    echo "no binary at $bin (build it, or set BANDICOOT_BIN)" >&2
    exit 2
fi

# Both sides get the same options; ours spells the boolean ones as flags.
ref_opts=()
cand_opts=()
stats=extended
i=0
while [ $i -lt ${#options[@]} ]; do
    opt=${options[$i]}
    value=
    # argparse takes --option=value too.
    if [[ $opt == --*=* ]]; then
        value=${opt#*=}
        opt=${opt%%=*}
        has_value=1
    else
        has_value=0
    fi
    case "$opt" in
        --output-dir)
            [ $has_value = 1 ] || i=$((i + 1))
            ;;
        --stats)
            # The reference has no such option: a wrapper sets its summary.
            if [ $has_value = 0 ]; then
                i=$((i + 1))
                value=${options[$i]:-}
            fi
            stats=$value
            cand_opts+=("$opt" "$value")
            ;;
        --network | --summary)
            if [ $has_value = 0 ]; then
                i=$((i + 1))
                value=${options[$i]:-}
            fi
            ref_opts+=("$opt" "$value")
            case "${value,,}" in
                true | 1 | yes) cand_opts+=("$opt") ;;
            esac
            ;;
        *)
            if [ $has_value = 1 ]; then
                ref_opts+=("$opt" "$value")
                cand_opts+=("$opt" "$value")
            else
                ref_opts+=("$opt")
                cand_opts+=("$opt")
            fi
            ;;
    esac
    i=$((i + 1))
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bandicoot-parity.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
    echo "outputs kept in $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi

# Fixed hash seed: the reference's set iteration order, hence its float
# sums, are then the same from run to run.
if ! PYTHONHASHSEED=0 "$venv/bin/python" "$here/reference_batch_stats.py" "$stats" "$reference/reference_batch.py" \
    "${positional[@]}" "${ref_opts[@]}" --output-dir "$work/ref" \
    > "$work/ref.log" 2>&1; then
    cat "$work/ref.log" >&2
    echo "the reference failed" >&2
    exit 2
fi

# Our binary may exit non-zero when some users fail, as the reference's
# users can: the comparison, not the status, decides.
status=0
"$bin" batch "${positional[@]}" "${cand_opts[@]}" --output-dir "$work/cand" \
    > "$work/cand.log" 2>&1 || status=$?
if [ $status != 0 ]; then
    echo "bandicoot batch exited with $status; last lines of its output:" >&2
    tail -n 5 "$work/cand.log" >&2
fi
if [ ! -d "$work/cand" ]; then
    echo "bandicoot batch wrote no output directory" >&2
    exit 2
fi

# COMPARE_ARGS is split on blanks on purpose: it holds several options.
# Not exec: the EXIT trap must still remove the outputs.
status=0
# shellcheck disable=SC2086
"$venv/bin/python" "$reference/compare.py" "$work/ref" "$work/cand" ${COMPARE_ARGS:-} || status=$?
exit $status
