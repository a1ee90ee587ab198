#!/usr/bin/env python3
"""Hook-log ingestion benchmark for task (issue: exactly-once ingestion).

Appends 100 000 realistic hook lines (PreToolUse/PostToolUse Bash and Edit, UserPromptSubmit,
Stop, Notification; 400-600 bytes each) for task #1 to a fresh $TASK_HOME's hook log, then times
`task list`, whose catch-up stores them all (one transaction per 4 MiB read, with the offset).
Checks that exactly 100 000 rows landed in hook_events.

Beside it, in the same run and on the same file, the floor: the sqlite3 CLI storing the same lines
into `t2(task_id, event, tool_name, raw_json)` with `json_extract(line,'$.task')`,
`json_extract(line,'$.event')`, `json_extract(line,'$.data.tool_name')` in one transaction, two ways
(the faster is the floor): `.import` in ascii mode into a one-column table, then
`INSERT INTO t2 SELECT ... FROM raw`; or `readfile` + `json_each` over the lines joined into one
array. Same journal mode and synchronous setting as task's store (WAL, NORMAL). Medians over --runs
(3) runs; each run uses a fresh folder.

    bench/ingest.py [--bin .build/release/task] [--lines 100000] [--runs 3]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import hooklines  # noqa: E402


def sqlite_count(db, sql):
    out = subprocess.run(["sqlite3", db, sql], check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def time_task(bin_, log_bytes, work, run, lines):
    home = os.path.join(work, f"task-{run}")
    env = dict(os.environ, TASK_HOME=home, NO_COLOR="1")
    subprocess.run([bin_, "new", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(home, "run"), exist_ok=True)
    with open(os.path.join(home, "run", "hooks.log"), "wb") as f:
        f.write(log_bytes)
    t = time.perf_counter()
    subprocess.run([bin_, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    db = os.path.join(home, "task.db")
    stored = sqlite_count(db, "select count(*) from hook_events")
    if stored != lines:
        sys.exit(f"task stored {stored} events, expected exactly {lines}")
    offset = sqlite_count(db, "select byte_offset from hook_sources where source = 'local'")
    if offset != len(log_bytes):
        sys.exit(f"task stored offset {offset}, expected {len(log_bytes)}")
    shutil.rmtree(home, ignore_errors=True)
    return elapsed


SQLITE_SETUP = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE t2 (task_id INTEGER, event TEXT, tool_name TEXT, raw_json TEXT);
"""

SQLITE_METHODS = {
    # ascii mode: fields split on \x1f (never in the JSON), records on \n, no quote processing, so
    # each line lands verbatim in the one column; then one INSERT ... SELECT in one transaction.
    "import": SQLITE_SETUP + """
CREATE TABLE raw (line TEXT);
.mode ascii
.separator "\\037" "\\n"
.import '{log}' raw
BEGIN;
INSERT INTO t2 SELECT json_extract(line,'$.task'), json_extract(line,'$.event'), json_extract(line,'$.data.tool_name'), line FROM raw;
COMMIT;
""",
    # the whole file read at once, its lines joined into one JSON array and split by json_each
    # (each value is the line's object, re-serialized: the same text for a minified line).
    "json_each": SQLITE_SETUP + """
BEGIN;
INSERT INTO t2 SELECT json_extract(value,'$.task'), json_extract(value,'$.event'), json_extract(value,'$.data.tool_name'), value
FROM json_each('[' || rtrim(replace(readfile('{log}'), char(10), ','), ',') || ']');
COMMIT;
""",
}


def time_sqlite(method, log_path, work, run, lines):
    db = os.path.join(work, f"sqlite-{method}-{run}.db")
    script = SQLITE_METHODS[method].replace("{log}", log_path)
    t = time.perf_counter()
    subprocess.run(["sqlite3", db], input=script, text=True, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    stored = sqlite_count(db, "select count(*) from t2 where event is not null")
    if stored != lines:
        sys.exit(f"sqlite3 ({method}) stored {stored} rows, expected exactly {lines}")
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(db + suffix)
        except FileNotFoundError:
            pass
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    benchlib.add_bin_argument(ap)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    opts.bin = benchlib.require_binary(opts.bin, tools=("sqlite3",))

    work = tempfile.mkdtemp(prefix="task-bench-ingest-")
    try:
        log_bytes = hooklines.generate(opts.lines, task=1)
        log_path = os.path.join(work, "hooks.log")
        with open(log_path, "wb") as f:
            f.write(log_bytes)
        task_s, sqlite_s = [], {m: [] for m in SQLITE_METHODS}
        for run in range(opts.runs):  # interleaved, so all see the same machine state
            task_s.append(time_task(opts.bin, log_bytes, work, run, opts.lines))
            for m in SQLITE_METHODS:
                sqlite_s[m].append(time_sqlite(m, log_path, work, run, opts.lines))
        n = opts.lines
        mb = len(log_bytes) / 1e6

        def row(label, samples):
            m = statistics.median(samples)
            runs = ", ".join(f"{x * 1000:.0f}" for x in samples)
            print(f"{label:<44} {m * 1000:7.0f} ms  {n / m:9,.0f} events/s  (runs: {runs} ms)")
            return m

        print(f"log     {n} lines, {mb:.1f} MB ({len(log_bytes) / n:.0f} B/line), task #1; medians of {opts.runs} runs")
        floors = {m: row(f"sqlite3 {m:<9} + INSERT…SELECT json_extract", sqlite_s[m]) for m in SQLITE_METHODS}
        t = row("task    task list (catch-up ingests all)", task_s)
        best = min(floors, key=floors.get)
        print(f"ratio   task/sqlite3 events/s {floors[best] / t:.2f}x against the faster floor ({best}; goal >= 1.0x),"
              f" {max(floors.values()) / t:.2f}x against the slower; task stored exactly {n} every run")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
