#!/usr/bin/env python3
"""Sprite benchmark: the shell's live session with a sprite of sprite-sim on loopback.

Starts `sprite-sim` (release build beside `task`; it holds each exec socket 5 s after the exit
frame, as the real service does), provisions its sprite with `task sprite up`, and opens the
interactive shell in a pseudo-terminal (120x40) on a fresh $TASK_HOME. Then:

1. **Hook line → printed**: task #1 is marked `processing` on the sprite (sqlite3, as if its
   agent ran), so the shell keeps its live stream open. --events (1 000) PreToolUse Bash lines
   are appended to the sprite's hook log at --rate (100) per second, each carrying a marker; the
   time from the append to its line printed above the prompt is recorded (p50/p99/max).
2. **Resume after a drop**: --drops (20) times, every socket is dropped (`/_sim/drop`) and a
   marker line appended at once; the time from the drop to that line printed is the time to
   resume (reconnect with backoff, tail from the stored offset, store, print).
3. **send → UserPromptSubmit**: task #2 runs the stand-in agent on the sprite; --sends (20)
   times `send 2 <marker>` is typed and timed from Enter to the `#2 ← sent` confirmation (which
   waits for the agent's UserPromptSubmit with that text; includes the 150 ms pause before Enter).
4. **Bundle round trip**: a repository of --repo-mb (50) MB of incompressible files; `task run`
   of a task in it (bundle, upload, fetch into the sprite's mirror, clone), then a 1 MB commit
   made in the clone on the sprite comes back with `task pull`; and a second run of the project
   (nothing new to send).

    bench/sprite.py [--bin .build/release/task] [--events 1000] [--rate 100] [--drops 20] [--sends 20] [--repo-mb 50]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import hooklines  # noqa: E402
from latency import open_shell, percentile  # noqa: E402

STAND_IN = os.path.join(benchlib.REPO, "tools/fake-claude/claude")
TOKEN = "bench-token-0123456789"


def start_sim(binary, root, extra=()):
    proc = subprocess.Popen([binary, "--port", "0", "--root", root, "--token", TOKEN, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        sys.exit(f"sprite-sim did not start: {line!r}")
    return proc, line[len("listening on "):]


def post(url, body=None):
    req = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def fmt(values):
    s = sorted(values)
    return f"p50 {percentile(s, 50):7.1f} ms   p99 {percentile(s, 99):7.1f} ms   max {s[-1]:7.1f} ms" if s else "none"


def main():
    ap = argparse.ArgumentParser()
    benchlib.add_bin_argument(ap)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--drops", type=int, default=20)
    ap.add_argument("--sends", type=int, default=20)
    ap.add_argument("--repo-mb", type=int, default=50)
    opts = ap.parse_args()
    opts.bin = benchlib.require_binary(opts.bin, tools=("sqlite3", "git", "tmux"))
    sim_bin = benchlib.require_sim(opts.bin)

    work = tempfile.mkdtemp(prefix="task-bench-sprite-")
    home = os.path.join(work, "home")
    sim, url = start_sim(sim_bin, os.path.join(work, "sim"))
    sprite_home = os.path.join(work, "sim", "sprites", "task-sandbox", "home")
    env = dict(os.environ, TASK_HOME=home, TERM="xterm", SPRITES_API_URL=url, SPRITES_TOKEN=TOKEN,
               TASK_SPRITE_AGENT=STAND_IN, IS_SANDBOX="1", FAKE_CLAUDE_THINK_MS="0",
               FAKE_CLAUDE_IDLE_NOTIFY_MS="600000", HOME=os.path.join(work, "user"))
    env.pop("NO_COLOR", None)
    os.makedirs(env["HOME"])
    task = lambda *args: subprocess.run([opts.bin, *args], env=env, check=True, capture_output=True, text=True)
    pid = None
    try:
        task("sprite", "up")
        task("config", "set", "verbose", "on")
        task("new", "bench stream")
        subprocess.run(["sqlite3", os.path.join(home, "task.db"),
                        "UPDATE tasks SET status = 'processing', sandbox = 'sprite', site = 'task-sandbox', started_at = updated_at WHERE id = 1"],
                       check=True)
        log_path = os.path.join(sprite_home, ".task", "hooks.log")
        open(log_path, "ab").close()

        pid, fd, screen = open_shell(opts.bin, env)
        if not screen.wait(lambda: b": live" in screen.text, 20):
            sys.exit("the shell never said 'sprite NAME: live'; output was:\n" + screen.text.decode(errors="replace"))
        rng = random.Random(7)
        log = open(log_path, "ab")

        def append(marker):
            event, data = hooklines.pre_bash(f"echo bench-{marker}", rng)
            log.write(hooklines.line(1, event, data))
            log.flush()
            return time.perf_counter()

        t0 = append("warmup")
        if not screen.wait(lambda: "warmup" in screen.seen, 20):
            sys.exit("the warm-up event never showed")

        # 1. Hook line appended on the sprite -> stored and printed here.
        written = {}
        interval = 1.0 / opts.rate
        start = time.perf_counter()
        for i in range(opts.events):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            written[f"{i:06d}"] = append(f"{i:06d}")
        screen.wait(lambda: all(k in screen.seen for k in written), 30)
        stream = [(screen.seen[k] - t) * 1000 for k, t in written.items() if k in screen.seen]

        # 2. Resume after a drop.
        resume = []
        for i in range(opts.drops):
            marker = f"{900000 + i:06d}"
            t_drop = time.perf_counter()
            post(url + "/_sim/drop")
            append(marker)
            if screen.wait(lambda: marker in screen.seen, 30):
                resume.append((screen.seen[marker] - t_drop) * 1000)
            time.sleep(0.3)

        # 3. send -> UserPromptSubmit confirmed, with the stand-in agent on the sprite.
        task("new", "bench chat")
        os.write(fd, b"run 2\r")
        if not screen.wait(lambda: "⏸".encode() in screen.text.split(b"#2 started")[-1], 30):
            sys.exit("task #2 never waited for input:\n" + screen.text.decode(errors="replace")[-2000:])
        sends = []
        for i in range(opts.sends):
            word = f"bench-send-{i:03d}"
            before = screen.text.count(f"#2 ← sent".encode())
            t = time.perf_counter()
            os.write(fd, f"send 2 {word}\r".encode())
            if screen.wait(lambda: screen.text.count("#2 ← sent".encode()) > before, 20):
                sends.append((time.perf_counter() - t) * 1000)
            time.sleep(0.05)
        os.write(fd, b"stop 2\r")
        os.write(fd, b"\x04")
        os.waitpid(pid, 0)
        pid = None

        # 4. Bundle round trip.
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        git = lambda *a, cwd=repo: subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True)
        git("init", "-q", "-b", "main")
        for i in range(opts.repo_mb):
            with open(os.path.join(repo, f"blob{i:03d}.bin"), "wb") as f:
                f.write(os.urandom(1 << 20))
        git("add", ".")
        git("-c", "user.name=b", "-c", "user.email=b@e", "commit", "-qm", "big")
        task("project", "add", "big", repo)
        task("new", "big one", "--project", "big")
        t = time.perf_counter()
        task("run", "3")
        send_s = time.perf_counter() - t
        clone = os.path.join(sprite_home, "work", "big", "3-big-one")
        with open(os.path.join(clone, "result.bin"), "wb") as f:
            f.write(os.urandom(1 << 20))
        git("add", ".", cwd=clone)
        git("-c", "user.name=a", "-c", "user.email=a@e", "commit", "-qm", "result", cwd=clone)
        t = time.perf_counter()
        pulled = task("pull", "3").stdout
        pull_s = time.perf_counter() - t
        task("stop", "3")
        task("new", "big two", "--project", "big")
        t = time.perf_counter()
        task("run", "4")
        again_s = time.perf_counter() - t
        task("stop", "4")

        print(f"sprite-sim on loopback ({url}), shell {opts.bin}")
        print(f"hook line on the sprite -> printed here   {fmt(stream)}   ({len(stream)}/{opts.events} arrived, {opts.rate:g}/s)")
        print(f"resume after a dropped connection       {fmt(resume)}   ({len(resume)}/{opts.drops} drops)")
        print(f"send -> UserPromptSubmit confirmed      {fmt(sends)}   ({len(sends)}/{opts.sends} sends)")
        print(f"bundle round trip, {opts.repo_mb} MB repository:  run (send + clone) {send_s:.2f} s;  "
              f"pull of a 1 MB commit {pull_s:.2f} s;  second run (nothing new) {again_s:.2f} s")
        if "1 new commit" not in pulled:
            print("warning: pull said: " + pulled.strip())
    finally:
        if pid:
            os.kill(pid, 9)
        subprocess.run(["tmux", "-L", "task", "kill-server"], env=dict(os.environ, TMUX_TMPDIR=os.path.join(work, "sim", "sprites", "task-sandbox", "tmux")),
                       capture_output=True)
        sim.terminate()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
