#!/usr/bin/env python3
"""Reading stored events and the bytes they take on disk (issue: scale and robustness).

For each size in --sizes (300 000 and 1 000 000 by default): a fresh $TASK_HOME, task #1, the size's
realistic hook lines (hooklines.py) written to its hook log and stored by one catch-up (`task list`).
Then, on the same database, in the same run:

- `task events 1 --json` and `task events 1` to /dev/null: wall time (median of --runs) and the
  process's peak RSS (from wait4's rusage);
- the baseline: the `sqlite3` CLI printing `id, event, tool_name, summary, raw_json` of the same rows;
- disk: the database (with its WAL, after a checkpoint) plus the hook log(s) left in run/, beside the
  bytes of the hook lines stored, before and after `task prune --force` style compaction is NOT run
  (the figure is what a running installation holds).

    bench/events.py [--bin .build/release/task] [--sizes 300000,1000000] [--runs 3]
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


def timed(argv, env=None):
    """Runs argv with stdout to /dev/null; returns (seconds, peak RSS in MB)."""
    with open(os.devnull, "wb") as null:
        t = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - t
        if status != 0:
            sys.exit(f"{argv[:3]} failed: {p.stderr.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024


def disk_bytes(home):
    total = 0
    for name in ("task.db", "task.db-wal", "task.db-shm"):
        p = os.path.join(home, name)
        if os.path.exists(p):
            total += os.path.getsize(p)
    run = os.path.join(home, "run")
    for name in os.listdir(run):
        if name.startswith("hooks.log"):
            total += os.path.getsize(os.path.join(run, name))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.add_bin_argument(ap)
    ap.add_argument("--sizes", default="300000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    bin_ = benchlib.require_binary(args.bin, tools=("sqlite3",))
    work = tempfile.mkdtemp(prefix="task-bench-events-")
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            home = os.path.join(work, f"home-{size}")
            env = dict(os.environ, TASK_HOME=home, NO_COLOR="1")
            for k in [k for k in env if k.startswith(("SPRITES_", "ANTHROPIC_")) or k == "SPRITE_TOKEN"]:
                del env[k]
            subprocess.run([bin_, "new", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
            os.makedirs(os.path.join(home, "run"), exist_ok=True)
            # Generated in a child: peak RSS is inherited across fork and exec, so the measuring
            # process stays small for the processes it measures.
            log_path = os.path.join(home, "run", "hooks.log")
            subprocess.run([sys.executable, "-c", "import sys, hooklines; open(sys.argv[1], 'wb').write(hooklines.generate(int(sys.argv[2])))",
                            log_path, str(size)], check=True, cwd=os.path.dirname(os.path.abspath(__file__)))
            log_bytes = os.path.getsize(log_path)
            t = time.perf_counter()
            subprocess.run([bin_, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
            ingest = time.perf_counter() - t
            db = os.path.join(home, "task.db")
            subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"], check=True, stdout=subprocess.DEVNULL)
            stored = int(subprocess.run(["sqlite3", db, "select count(*) from hook_events"], check=True,
                                        capture_output=True, text=True).stdout)
            if stored != size:
                sys.exit(f"stored {stored} events, expected {size}")
            rows = {"json": [], "text": [], "sqlite3": [], "lines": []}
            rss = {"json": 0.0, "text": 0.0, "sqlite3": 0.0, "lines": 0.0}
            sql = "SELECT id, event, tool_name, summary, raw_json FROM hook_events WHERE task_id = 1 ORDER BY id"
            # The stored raw_json of a line in the hook script's shape lacks the task and event
            # its row holds (StoredLine); the view puts the line back together, as `events` does.
            lines_sql = "SELECT id, event, tool_name, summary, line FROM hook_event_lines WHERE task_id = 1 ORDER BY id"
            for _ in range(args.runs):
                for name, argv in (("json", [bin_, "events", "1", "--json"]), ("text", [bin_, "events", "1"]),
                                   ("sqlite3", ["sqlite3", db, sql]), ("lines", ["sqlite3", db, lines_sql])):
                    secs, mb = timed(argv, env)
                    rows[name].append(secs)
                    rss[name] = max(rss[name], mb)
            med = {k: statistics.median(v) for k, v in rows.items()}
            on_disk = disk_bytes(home)
            print(f"{size:>9} events ({log_bytes / 1e6:.0f} MB of hook lines; stored in {ingest:.1f} s)")
            print(f"  events --json   {med['json'] * 1000:8.0f} ms  RSS {rss['json']:6.1f} MB   "
                  f"sqlite3 CLI {med['sqlite3'] * 1000:6.0f} ms  RSS {rss['sqlite3']:5.1f} MB   "
                  f"ratio {med['json'] / med['sqlite3']:.2f}x (goal <= 2x, RSS < 80 MB)")
            print(f"  events --json   vs sqlite3 CLI printing the whole hook lines (view hook_event_lines) "
                  f"{med['lines'] * 1000:6.0f} ms: ratio {med['json'] / med['lines']:.2f}x")
            print(f"  events (text)   {med['text'] * 1000:8.0f} ms  RSS {rss['text']:6.1f} MB   "
                  f"ratio {med['text'] / med['sqlite3']:.2f}x")
            print(f"  on disk         {on_disk / 1e6:8.1f} MB (database + hook log)  = {on_disk / log_bytes:.2f}x "
                  f"the hook lines (goal <= 1.2x)")
            subprocess.run([bin_, "search", "redirect"], env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"], check=True, stdout=subprocess.DEVNULL)
            with_index = disk_bytes(home)
            print(f"  on disk         {with_index / 1e6:8.1f} MB with the search index built (`task search`) "
                  f"= {with_index / log_bytes:.2f}x the hook lines")
            shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
