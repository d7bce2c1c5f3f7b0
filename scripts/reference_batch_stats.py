#!/usr/bin/env python3
"""Runs the reference batch (reference_batch.py) with another summary level.

Usage: reference_batch_stats.py SUMMARY REFERENCE_BATCH_PY [its arguments...]

reference_batch.py always asks bandicoot for summary='extended'; this wraps
bandicoot.utils.all so that the same run uses SUMMARY ('default' keeps mean
and std of each distribution), for comparing `bandicoot batch --stats default`.
"""
import os
import runpy
import sys

summary, script = sys.argv[1], sys.argv[2]
sys.argv = [script] + sys.argv[3:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))

import bc_compat  # noqa: E402,F401  (must precede bandicoot)
import bandicoot  # noqa: E402

_all = bandicoot.utils.all


def all_with_summary(user, **kwargs):
    kwargs["summary"] = summary
    return _all(user, **kwargs)


bandicoot.utils.all = all_with_summary
runpy.run_path(script, run_name="__main__")
