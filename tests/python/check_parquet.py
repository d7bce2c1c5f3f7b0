#!/usr/bin/env python3
"""Reads the Parquet summary of a batch run with pandas and pyarrow, as an
analyst would, and checks one typed row per user.

Usage: check_parquet.py BANDICOOT_BINARY
"""
import os
import subprocess
import sys
import tempfile

import pandas as pd
import pyarrow.parquet as pq

binary = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
tiny = os.path.join(here, "..", "fixtures", "tiny")

with tempfile.TemporaryDirectory() as out:
    subprocess.run(
        [binary, "batch", os.path.join(tiny, "records"), os.path.join(tiny, "antennas.csv"),
         "--output-dir", out, "--summary", "--format", "none"],
        check=True, stderr=subprocess.DEVNULL)
    path = os.path.join(out, "_all_users_summary.parquet")

    schema = pq.read_schema(path)
    df = pd.read_parquet(path)

assert list(df["user_id"]) == ["u", "w"], df["user_id"]
assert str(schema.field("user_id").type) in ("string", "large_string", "string_view"), schema.field("user_id").type
assert df["record_count"].dtype == "int64", df["record_count"].dtype
assert list(df["record_count"]) == [7, 3]
assert df["reporting__has_call"].dtype == "bool", df["reporting__has_call"].dtype
assert df["active_days__allweek__allday__callandtext__mean"].dtype == "float64"
assert df.loc[0, "active_days__allweek__allday__callandtext__mean"] == 2.0
# w has no text: its text indicators are missing values, not zeros.
assert pd.isna(df.loc[1, "number_of_interactions__allweek__allday__text__mean"])
print("parquet summary: %d rows, %d typed columns read by pandas %s" % (len(df), len(df.columns), pd.__version__))
