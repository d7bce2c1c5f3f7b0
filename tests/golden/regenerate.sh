#!/usr/bin/env bash
# Recreates the golden fixtures in tests/golden/<case>/ from the Python
# reference (reference_batch.py, bandicoot 0.6.0).
#
# Usage: tests/golden/regenerate.sh [REF_VENV]
#   REF_VENV  the reference's Python venv; default $REF_VENV, else
#             <repo>/../ref-venv. Created with setup.sh when missing.
#   SHARED    (env) the shared directory holding reference/; default
#             <repo>/../shared.
#
# Each case is one line of reference_batch.py arguments, stored verbatim in
# tests/golden/<case>/CASE. $SAMPLES stands for $SHARED/reference/samples and
# $INPUTS for tests/golden/inputs; tests/common/mod.rs expands them the same
# way to run our binary. --output-dir is never part of a CASE: whoever runs
# the case chooses it.
#
# What is kept of the reference's output: every file it writes, minus what
# changes on every run (the "seconds" timings of _reference_log.json, the
# "generated" timestamp and processing time of _aggregate_stats.json), and
# with the absolute input paths written back as $SAMPLES / $INPUTS, so that a
# second run on another machine gives the same bytes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=$(cd "${SHARED:-$repo/../shared}" && pwd)
reference=$shared/reference
samples=$reference/samples
inputs=$here/inputs
venv=${1:-${REF_VENV:-$repo/../ref-venv}}

if [ ! -x "$venv/bin/python" ]; then
    echo "no reference venv at $venv: creating it" >&2
    sh "$reference/setup.sh" "$venv"
fi
python=$venv/bin/python

# name|arguments. Keep them small: the fixtures are committed.
cases=(
    # groupby left at its default (week), with the population summary.
    'manual_week|$SAMPLES/manual $SAMPLES/towers.csv --summary true'
    'manual_none_splits|$SAMPLES/manual $SAMPLES/towers.csv --groupby none --split-week --split-day'
    # The ego and its correspondents as plain users (no --network).
    'network_ego_week|$SAMPLES/network $SAMPLES/towers.csv --groupby week --split-week --split-day'
    'network_ego_day|$SAMPLES/network $SAMPLES/towers.csv --groupby day --split-week --split-day'
    # demo/ also holds antennas.csv, which the reference reads as a user.
    'demo_month|$SAMPLES/demo $SAMPLES/demo/antennas.csv --groupby month --summary true'
    'special_year|$SAMPLES/special $SAMPLES/special/antennas.csv --groupby year --summary true'
    # Hand-written users for the loading rules (see inputs/ignored_rows).
    'ignored_rows|$INPUTS/ignored_rows $SAMPLES/towers.csv --summary true'
    # Same users without an antennas file: latitude/longitude columns are
    # then the only locations (with an antennas file the reference drops them).
    'ignored_rows_no_antennas|$INPUTS/ignored_rows --groupby month --format json'
    # The sample's recharges (dates without zero padding, an empty amount)
    # and attributes; A has both, B neither.
    'manual_recharges_week|$SAMPLES/manual $SAMPLES/towers.csv --attributes $SAMPLES/attributes --recharges $SAMPLES/manual/recharges --summary true'
    'manual_recharges_none_splits|$SAMPLES/manual $SAMPLES/towers.csv --groupby none --split-week --split-day --attributes $SAMPLES/attributes --recharges $SAMPLES/manual/recharges'
)

# The committed copy of the sample user, refreshed in case the sample moved on.
cp -f "$samples/user_ignored.csv" "$inputs/ignored_rows/user_ignored.csv"
chmod 644 "$inputs/ignored_rows/user_ignored.csv"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Python's string hashing is salted per process; fixing it makes any
# set-iteration order inside bandicoot the same from run to run.
export PYTHONHASHSEED=0

for entry in "${cases[@]}"; do
    name=${entry%%|*}
    line=${entry#*|}

    # Split on blanks first (read -a: no globbing), then expand: the expanded
    # paths may hold blanks.
    read -r -a words <<< "$line"
    args=()
    for tok in "${words[@]}"; do
        tok=${tok//'$SAMPLES'/$samples}
        tok=${tok//'$INPUTS'/$inputs}
        args+=("$tok")
    done

    raw=$scratch/$name
    echo "== $name: reference_batch.py $line" >&2
    "$python" "$reference/reference_batch.py" "${args[@]}" --output-dir "$raw" >&2

    dest=$here/$name
    rm -rf "$dest"
    mkdir -p "$dest"
    printf '%s\n' "$line" > "$dest/CASE"

    "$python" - "$raw" "$dest" "$samples" "$inputs" <<'PY'
import json
import os
import sys

raw, dest, samples, inputs = sys.argv[1:]

# Longest prefix first, in case one input directory sits inside the other.
prefixes = sorted([(samples, "$SAMPLES"), (inputs, "$INPUTS")],
                  key=lambda p: -len(p[0]))


def placeholders(text, escape):
    for path, name in prefixes:
        text = text.replace(escape(path), name)
    return text


for f in sorted(os.listdir(raw)):
    src = os.path.join(raw, f)
    # newline="" keeps the CSV writer's \r\n line ends byte for byte.
    with open(src, newline="") as fh:
        text = fh.read()
    if f == "_reference_log.json":
        log = json.loads(text)
        log.pop("seconds", None)
        for u in log["users"]:
            u.pop("seconds", None)
        text = json.dumps(log, indent=1)
    elif f == "_aggregate_stats.json":
        agg = json.loads(text)
        agg["meta"].pop("generated", None)
        agg["meta"].pop("processing_time_seconds", None)
        text = json.dumps(agg, indent=2)
    elif f.endswith(".json"):
        # Paths appear inside JSON strings, hence in their escaped form.
        text = placeholders(text, lambda p: json.dumps(p)[1:-1])
    else:
        text = placeholders(text, lambda p: p)
    with open(os.path.join(dest, f), "w", newline="") as fh:
        fh.write(text)
PY

    # The stripped copy must still compare clean against the raw output;
    # otherwise the post-processing above touched compared data.
    "$python" "$reference/compare.py" "$dest" "$raw" > "$scratch/$name.compare" ||
        { cat "$scratch/$name.compare" >&2; echo "$name: fixture differs from raw output" >&2; exit 1; }
done

# A case dropped from the list above keeps its old directory: say so rather
# than delete directories here.
for case_file in "$here"/*/CASE; do
    name=$(basename "$(dirname "$case_file")")
    known=0
    for entry in "${cases[@]}"; do
        [ "${entry%%|*}" = "$name" ] && known=1
    done
    [ $known = 1 ] || echo "warning: tests/golden/$name is no longer a case; remove it" >&2
done

du -sh "$here" >&2
