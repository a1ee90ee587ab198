#!/usr/bin/env python3
"""`task search` over a big database, beside the `sqlite3` CLI running the same FTS query.

A fresh $TASK_HOME, task #1, --size realistic hook lines (hooklines.py) written to its hook log
and stored by one catch-up (`task list`), which keeps the full-text index in step as it stores.
Then, for each query, the median wall time of --runs runs of `task search <query>` (output to
/dev/null) beside `sqlite3` running the same ranked FTS5 query on the events' index (the best 50,
with snippets, of the newest 2 000 matches, as `task search` ranks them). Also printed: the database's size (with the index) beside the hook lines' bytes, and
the index's own pages (dbstat, when the sqlite3 CLI has it).

    bench/search.py [--bin .build/release/task] [--size 1000000] [--runs 7]
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

QUERIES = ["tsconfig", "redirect loop", "\"regression test\"", "pytest AND slow"]


def median_time(argv, env, runs):
    times = []
    for _ in range(runs):
        with open(os.devnull, "wb") as null:
            t = time.perf_counter()
            r = subprocess.run(argv, env=env, stdout=null, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - t)
            if r.returncode != 0:
                sys.exit(f"{argv[:4]} failed: {r.stderr.decode(errors='replace')}")
    return statistics.median(times) * 1000


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.add_bin_argument(ap)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the database (its folder is printed)")
    args = ap.parse_args()
    bin_ = benchlib.require_binary(args.bin, tools=("sqlite3",))
    work = tempfile.mkdtemp(prefix="task-bench-search-")
    try:
        home = os.path.join(work, "home")
        env = dict(os.environ, TASK_HOME=home, NO_COLOR="1")
        for k in [k for k in env if k.startswith(("SPRITES_", "ANTHROPIC_")) or k == "SPRITE_TOKEN"]:
            del env[k]
        subprocess.run([bin_, "new", "bench", "--prompt", "find the redirect loop"], env=env, check=True, stdout=subprocess.DEVNULL)
        os.makedirs(os.path.join(home, "run"), exist_ok=True)
        log_path = os.path.join(home, "run", "hooks.log")
        subprocess.run([sys.executable, "-c", "import sys, hooklines; open(sys.argv[1], 'wb').write(hooklines.generate(int(sys.argv[2])))",
                        log_path, str(args.size)], check=True, cwd=os.path.dirname(os.path.abspath(__file__)))
        log_bytes = os.path.getsize(log_path)
        t = time.perf_counter()
        subprocess.run([bin_, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
        ingest = time.perf_counter() - t
        db = os.path.join(home, "task.db")
        subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"], check=True, stdout=subprocess.DEVNULL)
        events = subprocess.run(["sqlite3", db, "SELECT COUNT(*) FROM hook_events"], check=True, capture_output=True, text=True).stdout.strip()
        print(f"{events} events stored in {ingest:.1f} s (the first search then indexes them in bulk)")
        print(f"{'query':24} {'task search':>12} {'sqlite3':>10} {'ratio':>7}  hits")
        for q in QUERIES:
            hits = subprocess.run([bin_, "search", q], env=env, capture_output=True, text=True).stdout.count("\n")
            task_ms = median_time([bin_, "search", q], env, args.runs)
            sql = ("SELECT e.id, e.task_id, e.event, e.received_at, s.snip FROM "
                   "(SELECT rowid AS id, snippet(event_search, 0, '[', ']', '…', 12) AS snip, rank FROM event_search "
                   f"WHERE event_search MATCH {sql_literal(q)} AND rowid >= COALESCE((SELECT rowid FROM event_search "
                   f"WHERE event_search MATCH {sql_literal(q)} ORDER BY rowid DESC LIMIT 1 OFFSET 1999), 0) "
                   "ORDER BY rank LIMIT 50) s "
                   "JOIN hook_events e ON e.id = s.id ORDER BY s.rank")
            sqlite_ms = median_time(["sqlite3", db, sql], env, args.runs)
            print(f"{q:24} {task_ms:9.1f} ms {sqlite_ms:7.1f} ms {task_ms / sqlite_ms:6.2f}×  {hits}")
        db_bytes = sum(os.path.getsize(os.path.join(home, n)) for n in ("task.db", "task.db-wal") if os.path.exists(os.path.join(home, n)))
        logs = sum(os.path.getsize(os.path.join(home, "run", n)) for n in os.listdir(os.path.join(home, "run")) if n.startswith("hooks.log"))
        print(f"disk: database {db_bytes / 1e6:.1f} MB + hook logs {logs / 1e6:.1f} MB = {(db_bytes + logs) / log_bytes:.2f}× "
              f"the {log_bytes / 1e6:.1f} MB of hook lines")
        r = subprocess.run(["sqlite3", db, "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'event_search%' OR name LIKE 'task_search%'"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            print(f"full-text index: {int(r.stdout.strip()) / 1e6:.1f} MB of the database")
        if args.keep:
            print(f"kept: {home}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
