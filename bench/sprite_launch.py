#!/usr/bin/env python3
"""Round trips of a sprite run: `run` → SessionStart stored here, and `send` → confirmed.

Starts `sprite-sim` (release build beside `task`) with --latency-ms 0 and then 100 (a laptop far
from the API: every request, every control-channel operation and every new connection pays it),
provisions its sprite once (`task sprite up`), and, with the stand-in agent as the sprite's
agent, for --runs (5) tasks of an up-to-date git project:

- times `task run <id>` from its start until the task's SessionStart is in the database here
  (sqlite3 polled every 5 ms), and counts the requests the run made (from `/_sim/requests`);
- times `task send <id> <text>` (typed, then confirmed by the agent's UserPromptSubmit; 150 ms of
  it is the pause before Enter the TUI needs) and counts its requests.

Medians are printed beside the figure measured on this tree before the launch was folded (1.63 s
for run → SessionStart at 100 ms; about 12 sequential requests).

    bench/sprite_launch.py [--bin .build/release/task] [--runs 5] [--latencies 0,100]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

STAND_IN = os.path.join(benchlib.REPO, "tools/fake-claude/claude")
TOKEN = "bench-token-0123456789"


def start_sim(binary, root, latency):
    proc = subprocess.Popen([binary, "--port", "0", "--root", root, "--token", TOKEN, "--latency-ms", str(latency),
                             "--close-delay", "5"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        sys.exit(f"sprite-sim did not start: {line!r}")
    return proc, line[len("listening on "):]


def requests(url):
    """HTTP requests (REST, exec upgrades) plus commands over the control channel: the round trips."""
    with urllib.request.urlopen(url + "/_sim/requests") as r:
        body = json.loads(r.read())
    with urllib.request.urlopen(url + "/_sim/control") as r:
        control = json.loads(r.read())
    return (len(body) if isinstance(body, list) else len(body.get("requests", []))) + control.get("operations", 0)


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.add_bin_argument(ap)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latencies", default="0,100")
    args = ap.parse_args()
    bin_ = benchlib.require_binary(args.bin, tools=("sqlite3", "git", "tmux"))
    sim_bin = os.path.join(os.path.dirname(bin_), "sprite-sim")
    if not os.access(sim_bin, os.X_OK):
        sys.exit(f"no sprite-sim beside {bin_}: swift build -c release --product sprite-sim")
    for latency in (int(x) for x in args.latencies.split(",")):
        work = tempfile.mkdtemp(prefix="task-bench-launch-")
        sim, url = start_sim(sim_bin, os.path.join(work, "sim"), latency)
        try:
            home = os.path.join(work, "home")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SPRITE", "ANTHROPIC_", "TASK_"))}
            env.update(TASK_HOME=home, NO_COLOR="1", SPRITES_API_URL=url, SPRITES_TOKEN=TOKEN,
                       TASK_SPRITE_AGENT=STAND_IN, IS_SANDBOX="1", FAKE_CLAUDE_THINK_MS="10", HOME=os.path.join(work, "user"))
            os.makedirs(env["HOME"])

            def task(*a, check=True):
                return subprocess.run([bin_, *a], env=env, capture_output=True, text=True, check=check, timeout=120)

            repo = os.path.join(work, "repo")
            os.makedirs(repo)
            for cmd in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "init"]):
                subprocess.run(["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@e", *cmd], check=True)
            task("sprite", "up")
            task("project", "add", "web", repo)
            # A first run sends the project; the measured runs find it there already.
            task("new", "warm", "--project", "web")
            task("run", "1")
            db = os.path.join(home, "task.db")
            runs, run_requests, sends, send_requests = [], [], [], []
            for i in range(2, 2 + args.runs):
                task("new", f"bench {i}", "--project", "web")
                before = requests(url)
                t = time.perf_counter()
                p = subprocess.Popen([bin_, "run", str(i)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                while sql(db, f"select count(*) from hook_events where task_id = {i} and event = 'SessionStart'") != "1":
                    if p.poll() is not None and p.returncode != 0:
                        sys.exit(f"run failed: {p.stderr.read().decode()}")
                    if time.perf_counter() - t > 60:
                        sys.exit("no SessionStart within 60 s")
                    # One-shot `run` waits for the first hook; a shell would store it through its live session.
                    time.sleep(0.005)
                runs.append(time.perf_counter() - t)
                p.wait(timeout=60)
                run_requests.append(requests(url) - before)
                while sql(db, f"select status from tasks where id = {i}") != "blocked":
                    task("show", str(i))   # reads the sprite's hook log (list reads only the local one)
                    time.sleep(0.05)
                before = requests(url)
                t = time.perf_counter()
                task("send", str(i), f"marker {i}")
                sends.append(time.perf_counter() - t)
                send_requests.append(requests(url) - before)
                task("done", str(i))
            print(f"latency {latency:>3} ms   run → SessionStart stored: median {statistics.median(runs) * 1000:6.0f} ms "
                  f"({statistics.median(run_requests):.0f} requests and control commands; before folding: 1630 ms at 100 ms, ~12 sequential requests; goal ≤ 600 ms)")
            print(f"                send → confirmed:          median {statistics.median(sends) * 1000:6.0f} ms "
                  f"({statistics.median(send_requests):.0f} requests and control commands, 150 ms of it the pause before Enter)")
        finally:
            sim.terminate()
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
            subprocess.run(["tmux", "-L", "task", "kill-server"], env={"TMUX_TMPDIR": os.path.join(work, "sim", "sprites", "task-sandbox", "tmux"),
                                                                      "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                           capture_output=True)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
