#!/usr/bin/env python3
"""Benchmark: this tool against the reference (bandicoot 0.6.0) on the same
generated data, side by side, and on a whole population.

Usage: bench/run.py [--users 2000] [--weeks 8] [--slice 200] [--results bench/RESULTS.md]

For each case it runs, each as a whole process measured by /usr/bin/time -v:
  - the reference, ../shared/reference/reference_batch.py --limit SLICE (the
    first SLICE users of the population, sorted by id);
  - this tool on the same SLICE users, and on the whole population;
and prints wall time, users/s, records/s, peak memory and the speed ratio
(records/s over records/s). In network mode an ego's results depend on the
whole directory, so this tool runs on the whole population only, and the
ratio is of users/s, since the reference's cost per user grows with its
neighbours rather than its records. --cases picks cases by number (1-based).
The figures are appended to the results file with the date, the machine
and the data. Environment: BANDICOOT_BIN (default: the release build in
${CARGO_TARGET_DIR:-~/.cache/bandicoot-target}), REF_VENV (default
../ref-venv, created with setup.sh when missing), SHARED (default ../shared).
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CASES = [
    ("defaults (week, extended, csv+json, summary)", ["--summary", "true"]),
    ("both splits", ["--summary", "true", "--split-week", "--split-day"]),
    ("groupby none", ["--summary", "true", "--groupby", "none"]),
    ("summary only (--format none)", ["--summary", "true", "--format", "none"]),
    ("network mode (defaults + --network)", ["--summary", "true", "--network", "true"]),
]

# The last case, by number len(CASES) + 1: this tool alone on about one and
# ten million records (defaults), for how time and memory grow with size.
SCALING = "scaling (defaults, this tool only)"
SCALE_USERS = (2400, 24000)


def ours(options):
    """reference_batch.py options, spelled for our binary."""
    out, i = [], 0
    while i < len(options):
        o = options[i]
        if o in ("--summary", "--network"):
            if options[i + 1].lower() == "true":
                out.append(o)
            i += 2
            continue
        out.append(o)
        i += 1
    return out


def timed(cmd):
    """Runs cmd under /usr/bin/time -v: (wall seconds, peak MB)."""
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 1):
        sys.exit("failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stderr[-2000:]))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) / 1024
    return seconds, peak


def summary_counts(out_dir):
    """(users, records) of a run, from its summary CSV."""
    with open(os.path.join(out_dir, "_all_users_summary.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return len(rows), sum(int(r["record_count"]) for r in rows)


def scaling(binary, work, a):
    """Table rows of the scaling case: defaults on about 1 and 10 million records."""
    lines, walls = [], []
    for users in SCALE_USERS:
        pop = os.path.join(work, "scale-%d" % users)
        subprocess.run([binary, "synth", pop, "--users", str(users), "--weeks", str(a.weeks),
                        "--seed", str(a.seed)], check=True, stderr=subprocess.DEVNULL)
        out = os.path.join(work, "scale-out")
        s, mb = timed([binary, "batch", os.path.join(pop, "records"), os.path.join(pop, "antennas.csv"),
                       "--output-dir", out] + ours(CASES[0][1]))
        n, recs = summary_counts(out)
        walls.append((s, recs))
        ratio = "" if len(walls) == 1 else "time %.1fx for %.1fx the records" % (
            s / walls[0][0], recs / walls[0][1])
        line = "| %s | this tool, %d users | %d | %d | %.2f | %.1f | %.0f | %.0f | %s |" % (
            SCALING, users, n, recs, s, n / s, recs / s, mb, ratio)
        print(line)
        lines.append(line)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(pop, ignore_errors=True)
    return lines


def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1024 / 1024
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d cores (%s), %.0f GiB memory, %s" % (os.cpu_count(), model, mem, platform.platform())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--slice", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--cases", help="comma-separated case numbers, e.g. 1,5 (default: all)")
    a = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/bandicoot-target"))
    binary = os.environ.get("BANDICOOT_BIN", os.path.join(target, "release", "bandicoot"))
    shared = os.environ.get("SHARED", os.path.join(REPO, "..", "shared"))
    reference = os.path.join(shared, "reference")
    venv = os.environ.get("REF_VENV", os.path.join(REPO, "..", "ref-venv"))
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.run(["sh", os.path.join(reference, "setup.sh"), venv], check=True)
    python = os.path.join(venv, "bin", "python")

    work = tempfile.mkdtemp(prefix="bandicoot-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        pop = os.path.join(work, "pop")
        subprocess.run([binary, "synth", pop, "--users", str(a.users), "--weeks", str(a.weeks),
                        "--seed", str(a.seed)], check=True, stderr=subprocess.DEVNULL)
        records = os.path.join(pop, "records")
        antennas = os.path.join(pop, "antennas.csv")

        # The reference's slice as a directory of its own, for our runs.
        sliced = os.path.join(work, "slice")
        os.makedirs(sliced)
        for name in sorted(os.listdir(records))[:a.slice]:
            os.symlink(os.path.join(records, name), os.path.join(sliced, name))

        data = "%d users x %d weeks generated by `bandicoot synth --seed %d` (reference on the first %d)" % (
            a.users, a.weeks, a.seed, a.slice)
        lines = ["", "## %s" % datetime.date.today().isoformat(), "",
                 "Machine: %s." % machine(), "", "Data: %s." % data, "",
                 "| case | run | users | records | wall s | users/s | records/s | peak MB | speed-up |",
                 "|---|---|---|---|---|---|---|---|---|"]
        print("\n".join(lines[1:]))
        picked = [int(c) for c in a.cases.split(",")] if a.cases else range(1, len(CASES) + 2)
        for name, options in (CASES[c - 1] for c in picked if c <= len(CASES)):
            network = "--network" in options
            out = lambda tag: os.path.join(work, tag)  # noqa: E731
            ref_s, ref_mb = timed([python, os.path.join(reference, "reference_batch.py"), records, antennas,
                                   "--output-dir", out("ref"), "--limit", str(a.slice)] + options)
            ref_users, ref_records = summary_counts(out("ref"))
            rows = [("reference", ref_users, ref_records, ref_s, ref_mb, None)]
            runs = [("this tool, whole population", records)]
            if not network:
                runs.insert(0, ("this tool, same users", sliced))
            for tag, src in runs:
                s, mb = timed([binary, "batch", src, antennas, "--output-dir", out(tag)] + ours(options))
                users, recs = summary_counts(out(tag))
                if network:
                    ratio = (users / s) / (ref_users / ref_s)
                else:
                    ratio = (recs / s) / (ref_records / ref_s)
                rows.append((tag, users, recs, s, mb, ratio))
            for run, users, recs, s, mb, ratio in rows:
                line = "| %s | %s | %d | %d | %.2f | %.1f | %.0f | %.0f | %s |" % (
                    name, run, users, recs, s, users / s, recs / s, mb,
                    ("%.1fx" % ratio + (" (users/s)" if network else "")) if ratio else "")
                print(line)
                lines.append(line)
            for tag in ("ref", "this tool, same users", "this tool, whole population"):
                shutil.rmtree(out(tag), ignore_errors=True)
        if len(CASES) + 1 in picked:
            lines += scaling(binary, work, a)
        with open(a.results, "a") as f:
            f.write("\n".join(lines) + "\n")
        print("\nappended to %s" % a.results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
