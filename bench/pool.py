#!/usr/bin/env python3
"""Pool benchmark: three sprites of sprite-sim at once.

1. **Provisioning three sprites**: with `sprite-sim --latency-ms` (100: a laptop far from the API),
   `task sprite up --sprite NAME` for the three sprites of a pool one after another (the baseline,
   measured in the same run), beside three `task sprite up` processes at once.
2. **Three live streams**: tasks #1–#3 are marked `processing` on `task-sandbox`,
   `task-sandbox-2` and `task-sandbox-3` (sqlite3, as if their agents ran), and the interactive
   shell is opened in a pseudo-terminal: it keeps one stream per sprite. Then --events (1 000)
   PreToolUse lines are appended to each sprite's hook log at --rate (100) per second each, while
   the sim drops every socket --drops (10) times; the time from an append to its line printed
   above the prompt is recorded (p50/p99/max over all of them), and the store is checked to hold
   each event exactly once.

    bench/pool.py [--bin .build/release/task] [--events 1000] [--rate 100] [--drops 10] [--latency-ms 100]
"""
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import hooklines  # noqa: E402
from latency import open_shell, percentile  # noqa: E402
from sprite import TOKEN, fmt, post, start_sim  # noqa: E402

NAMES = ["task-sandbox", "task-sandbox-2", "task-sandbox-3"]


def environment(work, home, url):
    env = dict(os.environ, TASK_HOME=home, TERM="xterm", SPRITES_API_URL=url, SPRITES_TOKEN=TOKEN,
               HOME=os.path.join(work, "user"))
    for key in list(env):
        if key.startswith(("TASK_", "ANTHROPIC_", "SPRITE_")) and key not in ("TASK_HOME",):
            env.pop(key)
    env.pop("NO_COLOR", None)
    os.makedirs(env["HOME"], exist_ok=True)
    return env


def provisioning(binary, sim_bin, work, latency):
    """Seconds to provision the pool's three sprites one after another, and three at once."""
    sim, url = start_sim(sim_bin, os.path.join(work, "sim-provision"), ["--latency-ms", str(latency)])
    try:
        figures = []
        for mode, base in (("sequential", "seq"), ("concurrent", "par")):
            home = os.path.join(work, "home-" + base)
            env = environment(work, home, url)
            subprocess.run([binary, "config", "set", "sprite.name", base], env=env, check=True, capture_output=True)
            subprocess.run([binary, "config", "set", "sprite.pool", "3"], env=env, check=True, capture_output=True)
            names = [base, base + "-2", base + "-3"]
            t = time.perf_counter()
            if mode == "sequential":
                for name in names:
                    subprocess.run([binary, "sprite", "up", "--sprite", name], env=env, check=True, capture_output=True, timeout=300)
            else:
                procs = [subprocess.Popen([binary, "sprite", "up", "--sprite", name], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name in names]
                for p in procs:
                    if p.wait(timeout=300) != 0:
                        sys.exit(f"sprite up failed in the concurrent run ({p.args})")
            figures.append(time.perf_counter() - t)
        return figures
    finally:
        sim.terminate()
        sim.wait()


def streams(binary, sim_bin, work, opts):
    """Latencies (ms) of every appended line, and whether each was stored exactly once."""
    sim_root = os.path.join(work, "sim-stream")
    sim, url = start_sim(sim_bin, sim_root)
    home = os.path.join(work, "home-stream")
    env = environment(work, home, url)
    task = lambda *args: subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True, timeout=300)
    pid = None
    try:
        task("config", "set", "sprite.pool", "3")
        task("config", "set", "sprite.tasks_per_sprite", "1")
        task("config", "set", "verbose", "on")
        for n, name in enumerate(NAMES, 1):
            task("sprite", "up", "--sprite", name)
            task("new", f"stream {n}")
        db = os.path.join(home, "task.db")
        with sqlite3.connect(db) as c:
            for n, name in enumerate(NAMES, 1):
                c.execute("UPDATE tasks SET status = 'processing', sandbox = 'sprite', site = ?, started_at = updated_at WHERE id = ?",
                          (name, n))
        logs = []
        for name in NAMES:
            path = os.path.join(sim_root, "sprites", name, "home", ".task", "hooks.log")
            open(path, "ab").close()
            logs.append(open(path, "ab"))

        pid, fd, screen = open_shell(binary, env, rows=50, cols=160)
        if not screen.wait(lambda: all(f"sprite {n}: live".encode() in screen.text for n in NAMES), 30):
            sys.exit("the shell's three streams never said live:\n" + screen.text.decode(errors="replace")[-3000:])
        rng = random.Random(11)

        def append(k, marker):
            event, data = hooklines.pre_bash(f"echo bench-{marker}", rng)
            logs[k].write(hooklines.line(k + 1, event, data))
            logs[k].flush()
            return time.perf_counter()

        append(0, "warmup")
        if not screen.wait(lambda: "warmup" in screen.seen, 20):
            sys.exit("the warm-up event never showed")
        written = {}
        interval = 1.0 / opts.rate
        drop_every = max(1, opts.events // max(1, opts.drops))
        drops = 0
        start = time.perf_counter()
        for i in range(opts.events):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            for k in range(3):
                marker = f"{k + 1}{i:05d}"
                written[marker] = append(k, marker)
            if drops < opts.drops and i % drop_every == drop_every // 2:
                post(url + "/_sim/drop")
                drops += 1
        screen.wait(lambda: all(m in screen.seen for m in written), 60)
        latencies = [(screen.seen[m] - t) * 1000 for m, t in written.items() if m in screen.seen]
        os.write(fd, b"\x04")
        os.waitpid(pid, 0)
        pid = None
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT COUNT(*), COUNT(DISTINCT line) FROM hook_event_lines").fetchone()
        once = rows[0] == rows[1] == 3 * opts.events + 1
        return latencies, len(written), drops, once, rows
    finally:
        if pid:
            os.kill(pid, 9)
        for name in NAMES:
            subprocess.run(["tmux", "-L", "task", "kill-server"],
                           env=dict(os.environ, TMUX_TMPDIR=os.path.join(sim_root, "sprites", name, "tmux")), capture_output=True)
        sim.terminate()
        sim.wait()


def main():
    ap = argparse.ArgumentParser()
    benchlib.add_bin_argument(ap)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--drops", type=int, default=10)
    ap.add_argument("--latency-ms", type=int, default=100)
    opts = ap.parse_args()
    opts.bin = benchlib.require_binary(opts.bin, tools=("sqlite3", "git", "tmux"))
    sim_bin = benchlib.require_sim(opts.bin)
    work = tempfile.mkdtemp(prefix="task-bench-pool-")
    try:
        sequential, concurrent = provisioning(opts.bin, sim_bin, work, opts.latency_ms)
        latencies, sent, drops, once, rows = streams(opts.bin, sim_bin, work, opts)
        s = sorted(latencies)
        print(f"sprite-sim on loopback, shell {opts.bin}")
        print(f"provisioning three sprites (--latency-ms {opts.latency_ms}):  one after another {sequential:.2f} s (baseline);  "
              f"three at once {concurrent:.2f} s  ({concurrent / sequential:.2f}x)")
        print(f"three sprites x {opts.events} events at {opts.rate:g}/s each, {drops} drops:  appended -> printed  {fmt(s)}   "
              f"({len(s)}/{sent} arrived; goal p99 < 100 ms {'✓' if s and percentile(s, 99) < 100 else '✗'})")
        print(f"stored: {rows[0]} rows, {rows[1]} distinct ({'each event exactly once ✓' if once else 'NOT exactly once ✗'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
