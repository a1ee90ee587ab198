#!/usr/bin/env python3
"""Startup and listing benchmark for task (issue: shell and store).

Measures, as medians over repeated runs of the release binary:
  - cold start of `task list --json` on an empty database,
  - `task list` over 100 000 tasks (output to /dev/null),
beside the floor: `sqlite3 :memory: 'select 1'` on the same machine in the same run.

    bench/startup.py [--bin .build/release/task] [--runs 40]
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


def median_ms(cmd, env, runs):
    samples = []
    for _ in range(3):  # warm the page cache
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    benchlib.add_bin_argument(ap)
    ap.add_argument("--runs", type=int, default=40)
    opts = ap.parse_args()
    opts.bin = benchlib.require_binary(opts.bin, tools=("sqlite3",))

    work = tempfile.mkdtemp(prefix="task-bench-")
    try:
        env = dict(os.environ, TASK_HOME=os.path.join(work, "empty"))
        subprocess.run([opts.bin, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
        floor = median_ms(["sqlite3", ":memory:", "select 1"], env, opts.runs)
        empty = median_ms([opts.bin, "list", "--json"], env, opts.runs)

        big = dict(os.environ, TASK_HOME=os.path.join(work, "big"))
        subprocess.run([opts.bin, "list"], env=big, check=True, stdout=subprocess.DEVNULL)
        db = os.path.join(work, "big", "task.db")
        subprocess.run(["sqlite3", db], check=True, input="""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
            INSERT INTO tasks (title, prompt, status, created_at, updated_at)
            SELECT 'Task number ' || i || ' with a realistic title', 'prompt ' || i,
                   CASE i % 4 WHEN 0 THEN 'backlog' WHEN 1 THEN 'blocked' WHEN 2 THEN 'processing' ELSE 'queued' END,
                   strftime('%s','now') - i, strftime('%s','now') - i FROM n;
        """, text=True)
        listing = median_ms([opts.bin, "list"], big, max(10, opts.runs // 4))
        listing_json = median_ms([opts.bin, "list", "--json"], big, max(10, opts.runs // 4))

        print(f"floor   sqlite3 :memory: 'select 1'        {floor:7.1f} ms")
        print(f"start   task list --json (empty db)        {empty:7.1f} ms  ({empty / floor:.1f}x floor; goal < 25 ms)")
        print(f"list    task list (100 000 tasks)          {listing:7.1f} ms  ({listing / floor:.1f}x floor; goal < 100 ms)")
        print(f"json    task list --json (100 000 tasks)   {listing_json:7.1f} ms  ({listing_json / floor:.1f}x floor)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
