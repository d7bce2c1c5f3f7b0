#!/usr/bin/env python3
"""Benchmark: this tool against the reference (bandicoot 0.6.0) on the same
generated data, side by side, and on a whole population.

Usage: bench/run.py [--users 2400] [--network-users 2000] [--weeks 8] [--slice 200]
                    [--repeat 3] [--ref-repeat 3] [--results bench/RESULTS.md] [--cases 1,5]

For each case it runs, each as a whole process measured by /usr/bin/time -v:
  - the reference, ../shared/reference/reference_batch.py --limit SLICE (the
    first SLICE users of the population, sorted by id);
  - this tool on the same SLICE users, and on the whole population;
and prints wall time, users/s, records/s, peak memory and the speed ratio
(records/s over records/s). Both sides' runs are repeated (--repeat for
this tool, --ref-repeat for the reference, tens of times slower) and the
median wall time is reported, with the largest peak memory: on a shared
virtual machine a single run of either can be a fifth off its usual time. The batch cases use a
population of --users (2400 users make about a million records); network
mode, whose reference cost grows with the population, one of
--network-users. In network mode an ego's results depend on the whole
directory, so this tool runs on the whole population only, and the ratio
is of users/s, since the reference's cost per user grows with its
neighbours rather than its records. --cases picks cases by number
(1-based). A last table checks the targets the project set itself. The
figures are appended to the results file with the date, the machine and
the data. Environment: BANDICOOT_BIN (default: the release build in
$CARGO_TARGET_DIR, else in target/ or ~/.cache/bandicoot-target), REF_VENV (default
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


def timed(cmd, out_dir, repeat=1):
    """Runs cmd under /usr/bin/time -v, `repeat` times, each into a fresh
    out_dir: (median wall seconds, largest peak MB)."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out_dir, ignore_errors=True)
        runs.append(timed_once(cmd))
    runs.sort()
    return runs[len(runs) // 2][0], max(mb for _, mb in runs)


def timed_once(cmd):
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
    """Table rows of the scaling case: defaults on about 1 and 10 million
    records; returns them with (wall s, records) of each size."""
    lines, walls = [], []
    for users in SCALE_USERS:
        records, antennas = population(binary, work, "scale-%d" % users, users, a)
        out = os.path.join(work, "scale-out")
        s, mb = timed([binary, "batch", records, antennas, "--output-dir", out] + ours(CASES[0][1]),
                      out, a.repeat)
        n, recs = summary_counts(out)
        walls.append((s, recs, mb))
        ratio = "" if len(walls) == 1 else "time %.1fx for %.1fx the records" % (
            s / walls[0][0], recs / walls[0][1])
        line = "| %s | this tool, %d users | %d | %d | %.2f | %.1f | %.0f | %.0f | %s |" % (
            SCALING, users, n, recs, s, n / s, recs / s, mb, ratio)
        print(line)
        lines.append(line)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(os.path.dirname(records), ignore_errors=True)
    return lines, walls


def targets(results, walls):
    """The targets' table: what each asks, what this run measured."""
    rows = []

    def check(name, value, text, ok, why=""):
        verdict = "met" if ok else "NOT met" + (" (%s)" % why if why else "")
        rows.append("| %s | %s | %s |" % (name, text % value, verdict))

    if "defaults" in results:
        speed, recs, _ = results["defaults"]
        check("defaults, >= 1 million records: >= 150x the reference's records/s",
              speed, "%.0fx", speed >= 150 and recs >= 1e6, "too few records" if recs < 1e6 else "")
    if "splits" in results:
        check("both splits: >= 150x the reference's records/s", results["splits"][0], "%.0fx",
              results["splits"][0] >= 150)
    if "network" in results:
        check("network mode, 2,000 users: >= 1000x the reference's users/s", results["network"][0],
              "%.0fx", results["network"][0] >= 1000 and results["network"][2] >= 2000,
              "too few users" if results["network"][2] < 2000 else "")
    if "defaults wall" in results and "none wall" in results:
        ratio = results["defaults wall"] / results["none wall"]
        check("--format none --summary >= 2x faster than the default format", ratio, "%.2fx", ratio >= 2)
    if len(walls) == 2:
        (s1, r1, _), (s10, r10, mb10) = walls
        check("10 million records: peak memory < 1.5 GB", mb10, "%.0f MB", mb10 < 1536 and r10 >= 1e7,
              "too few records" if r10 < 1e7 else "")
        check("10 million records: time <= 11x that of 1 million", s10 / s1, "%.1fx", s10 / s1 <= 11)
    if not rows:
        return []
    return ["", "| target | measured | |", "|---|---|---|"] + rows


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


def release_binary():
    """The release build: in $CARGO_TARGET_DIR when it is set, else in the
    checkout's target/ or the build directory CI keeps."""
    if os.environ.get("CARGO_TARGET_DIR"):
        dirs = [os.environ["CARGO_TARGET_DIR"]]
    else:
        dirs = [os.path.join(REPO, "target"), os.path.expanduser("~/.cache/bandicoot-target")]
    for d in dirs:
        binary = os.path.join(d, "release", "bandicoot")
        if os.path.exists(binary):
            return binary
    sys.exit("no release build in %s: run cargo build --release first" % " or ".join(dirs))


def population(binary, work, name, users, a):
    """Generates a population: its records directory and antennas file."""
    pop = os.path.join(work, name)
    subprocess.run([binary, "synth", pop, "--users", str(users), "--weeks", str(a.weeks),
                    "--seed", str(a.seed)], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(pop, "records"), os.path.join(pop, "antennas.csv")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=2400)
    ap.add_argument("--network-users", type=int, default=2000)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--slice", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ref-repeat", type=int, default=3)
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--cases", help="comma-separated case numbers, e.g. 1,5 (default: all)")
    a = ap.parse_args()

    binary = os.environ.get("BANDICOOT_BIN") or release_binary()
    shared = os.environ.get("SHARED", os.path.join(REPO, "..", "shared"))
    reference = os.path.join(shared, "reference")
    venv = os.environ.get("REF_VENV", os.path.join(REPO, "..", "ref-venv"))
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.run(["sh", os.path.join(reference, "setup.sh"), venv], check=True)
    python = os.path.join(venv, "bin", "python")

    work = tempfile.mkdtemp(prefix="bandicoot-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        picked = [int(c) for c in a.cases.split(",")] if a.cases else range(1, len(CASES) + 2)
        batch_pop = population(binary, work, "pop", a.users, a)
        network_pop = None
        if len(CASES) in picked:
            network_pop = population(binary, work, "netpop", a.network_users, a)

        # The reference's slice as a directory of its own, for our runs.
        sliced = os.path.join(work, "slice")
        os.makedirs(sliced)
        for name in sorted(os.listdir(batch_pop[0]))[:a.slice]:
            os.symlink(os.path.join(batch_pop[0], name), os.path.join(sliced, name))

        data = "%d users x %d weeks generated by `bandicoot synth --seed %d`" % (a.users, a.weeks, a.seed)
        if network_pop:
            data += ", and %d users for network mode" % a.network_users
        data += ("; the reference on the first %d users; wall times the median of %d runs"
                 " (the reference's of %d)") % (a.slice, a.repeat, a.ref_repeat)
        lines = ["", "## %s" % datetime.date.today().isoformat(), "",
                 "Machine: %s." % machine(), "", "Data: %s." % data, "",
                 "| case | run | users | records | wall s | users/s | records/s | peak MB | speed-up |",
                 "|---|---|---|---|---|---|---|---|---|"]
        print("\n".join(lines[1:]))
        results = {}
        for c in picked:
            if c > len(CASES):
                continue
            name, options = CASES[c - 1]
            network = "--network" in options
            records, antennas = network_pop if network else batch_pop
            out = lambda tag: os.path.join(work, tag)  # noqa: E731
            ref_s, ref_mb = timed([python, os.path.join(reference, "reference_batch.py"), records, antennas,
                                   "--output-dir", out("ref"), "--limit", str(a.slice)] + options, out("ref"),
                                  a.ref_repeat)
            ref_users, ref_records = summary_counts(out("ref"))
            rows = [("reference", ref_users, ref_records, ref_s, ref_mb, None)]
            runs = [("this tool, whole population", records)]
            if not network:
                runs.insert(0, ("this tool, same users", sliced))
            for tag, src in runs:
                s, mb = timed([binary, "batch", src, antennas, "--output-dir", out(tag)] + ours(options),
                              out(tag), a.repeat)
                users, recs = summary_counts(out(tag))
                if network:
                    ratio = (users / s) / (ref_users / ref_s)
                else:
                    ratio = (recs / s) / (ref_records / ref_s)
                rows.append((tag, users, recs, s, mb, ratio))
            key = {1: "defaults", 2: "splits", 4: "none", 5: "network"}.get(c)
            if key:
                _, users, recs, s, _, ratio = rows[-1]
                results[key] = (ratio, recs, users)
                results[key + " wall"] = s
            for run, users, recs, s, mb, ratio in rows:
                line = "| %s | %s | %d | %d | %.2f | %.1f | %.0f | %.0f | %s |" % (
                    name, run, users, recs, s, users / s, recs / s, mb,
                    ("%.1fx" % ratio + (" (users/s)" if network else "")) if ratio else "")
                print(line)
                lines.append(line)
            for tag in ("ref", "this tool, same users", "this tool, whole population"):
                shutil.rmtree(out(tag), ignore_errors=True)
        walls = []
        if len(CASES) + 1 in picked:
            more, walls = scaling(binary, work, a)
            lines += more
        checked = targets(results, walls)
        print("\n".join(checked))
        lines += checked
        with open(a.results, "a") as f:
            f.write("\n".join(lines) + "\n")
        print("\nappended to %s" % a.results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
