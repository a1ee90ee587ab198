#!/usr/bin/env python3
"""Live event latency benchmark for the interactive task shell (issue: inline event stream).

Starts `task` (the interactive shell) in a pseudo-terminal (TERM=xterm, 120x40) on a fresh
$TASK_HOME where task #1 exists and is `processing` (set with sqlite3, as if its agent ran, so a
Stop event blocks it). Once the `task>` prompt is up and a warm-up event has come through, it
appends --events (1 000) PreToolUse Bash hook lines at --rate (100) per second to the hook log,
each command carrying a unique marker (`bench-000123`), and records when each line was written
(write + flush). A reader thread reads the terminal and records when each marker is printed
above the prompt (ANSI stripped). Meanwhile the shell's VmRSS (/proc/<pid>/status) is sampled
every 100 ms. Then one Stop event is appended and timed until the `#1 ⏸ waiting for input` line
shows. The shell is left with Ctrl-D.

    bench/latency.py [--bin .build/release/task] [--events 1000] [--rate 100]

Reports latency p50/p99/max (appended -> printed), how many arrived (goal: all; p99 < 20 ms),
max RSS during the stream (goal < 40 MB) and the Stop -> blocked-visible time.
"""
import argparse
import fcntl
import os
import pty
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import hooklines  # noqa: E402

ANSI = re.compile(rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
MARKER = re.compile(rb"bench-(\d{6}|warmup)")


class Screen:
    """Reads the terminal in a thread; remembers when each marker, `task>` and `⏸` first appear."""

    def __init__(self, fd):
        self.fd = fd
        self.seen = {}          # marker -> perf_counter when its line arrived
        self.blocked_at = []    # perf_counter of each line containing ⏸
        self.prompts = 0
        self.text = bytearray()  # everything, ANSI stripped (for diagnostics)
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        pending = b""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            now = time.perf_counter()
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            pending += chunk
            # Lines printed above the prompt end with \n; the prompt itself does not.
            cut = pending.rfind(b"\n")
            done, pending = (pending[:cut + 1], pending[cut + 1:]) if cut >= 0 else (b"", pending)
            clean_done = ANSI.sub(b"", done)
            clean_tail = ANSI.sub(b"", pending)
            with self.cond:
                self.text += clean_done
                for m in MARKER.finditer(clean_done):
                    self.seen.setdefault(m.group(1).decode(), now)
                for line in clean_done.split(b"\n"):
                    if "⏸".encode() in line:
                        self.blocked_at.append(now)
                self.prompts += (clean_done + clean_tail).count(b"task> ")
                self.cond.notify_all()

    def wait(self, predicate, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: predicate() or self.closed, timeout) and predicate()


def open_shell(binary, env, rows=40, cols=120):
    """Starts the interactive shell in a pseudo-terminal of rows x cols; returns pid, fd and its Screen."""
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execve(binary, [binary], env)
    return pid, fd, Screen(fd)


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def descendants(pid):
    """Pids of every process below `pid` (from /proc), to find what the shell started."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def processes_using(path):
    """Pids whose command line mentions `path` (a tail left behind by the shell)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if path.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def main():
    ap = argparse.ArgumentParser()
    benchlib.add_bin_argument(ap)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0, help="events per second")
    ap.add_argument("--keep", action="store_true", help="keep the data folder and the screen text (printed) for inspection")
    opts = ap.parse_args()
    opts.bin = benchlib.require_binary(opts.bin, tools=("sqlite3",))

    work = tempfile.mkdtemp(prefix="task-bench-latency-")
    home = os.path.join(work, "home")
    env = dict(os.environ, TASK_HOME=home, TERM="xterm", TASK_TMUX_SOCKET="task-bench-" + str(os.getpid()))
    env.pop("NO_COLOR", None)
    subprocess.run([opts.bin, "new", "bench"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["sqlite3", os.path.join(home, "task.db"),
                    "UPDATE tasks SET status = 'processing', started_at = updated_at WHERE id = 1"], check=True)
    log_path = os.path.join(home, "run", "hooks.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    open(log_path, "wb").close()

    pid, fd, screen = open_shell(opts.bin, env)
    log = open(log_path, "ab")
    rng = __import__("random").Random(7)
    exit_status = None
    try:
        t_spawn = time.perf_counter()
        if not screen.wait(lambda: screen.prompts > 0, 10):
            sys.exit("no task> prompt within 10 s; output was:\n" + screen.text.decode(errors="replace"))
        prompt_ms = (time.perf_counter() - t_spawn) * 1000
        rss_idle = rss_kb(pid)

        # Warm-up: the live tail is started after the prompt; wait until it delivers.
        event, data = hooklines.pre_bash("echo bench-warmup", rng)
        t_warm = time.perf_counter()
        log.write(hooklines.line(1, event, data))
        log.flush()
        if not screen.wait(lambda: "warmup" in screen.seen, 10):
            sys.exit("the warm-up event never showed; output was:\n" + screen.text.decode(errors="replace"))
        warm_ms = (screen.seen["warmup"] - t_warm) * 1000

        rss_samples = []
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                kb = rss_kb(pid)
                if kb is not None:
                    rss_samples.append(kb)
                sampling.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        written = {}
        lines = []
        for i in range(opts.events):
            event, data = hooklines.pre_bash(f"echo bench-{i:06d} && npm test -- --runInBand", rng)
            lines.append(hooklines.line(1, event, data))
        interval = 1.0 / opts.rate
        start = time.perf_counter()
        for i, raw in enumerate(lines):
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            log.write(raw)
            log.flush()
            written[f"{i:06d}"] = time.perf_counter()
        stream_s = time.perf_counter() - start
        screen.wait(lambda: all(k in screen.seen for k in written), 10)
        sampling.set()
        sampler.join()

        # Stop: the turn ended, task #1 becomes blocked ("⏸ waiting for input").
        before = len(screen.blocked_at)
        stop = hooklines._common("Stop")
        stop.update(stop_hook_active=False, last_assistant_message="Done: the redirect loop is fixed.")
        t_stop = time.perf_counter()
        log.write(hooklines.line(1, "Stop", stop))
        log.flush()
        got_blocked = screen.wait(lambda: len(screen.blocked_at) > before, 10)
        blocked_ms = (screen.blocked_at[before] - t_stop) * 1000 if got_blocked else float("nan")

        with screen.cond:
            arrived = {k: screen.seen[k] - written[k] for k in written if k in screen.seen}
        lat = sorted(v * 1000 for v in arrived.values())
        late = sum(1 for v in lat if v >= 20)
        in_order = [screen.seen[k] for k in sorted(arrived)]
        ordered = all(a <= b for a, b in zip(in_order, in_order[1:]))

        # Leave with Ctrl-D on the empty prompt.
        os.write(fd, b"\x04")
        kids = descendants(pid)
        deadline = time.time() + 5
        while time.time() < deadline:
            done_pid, status = os.waitpid(pid, os.WNOHANG)
            if done_pid == pid:
                exit_status = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.02)
        time.sleep(0.3)
        leftovers = [p for p in kids if os.path.exists(f"/proc/{p}")] + \
            [p for p in processes_using(log_path) if p not in kids]

        print(f"shell   prompt after {prompt_ms:.0f} ms; first event (warm-up, tail starting) after {warm_ms:.1f} ms")
        print(f"stream  {opts.events} PreToolUse Bash events at {opts.rate:.0f}/s over {stream_s:.2f} s;"
              f" arrived {len(arrived)}/{opts.events}{' in order' if ordered else ' OUT OF ORDER'}")
        print(f"latency appended -> printed: p50 {percentile(lat, 50):.1f} ms  p99 {percentile(lat, 99):.1f} ms"
              f"  max {lat[-1] if lat else float('nan'):.1f} ms  (mean {statistics.mean(lat) if lat else float('nan'):.1f};"
              f" {late} >= 20 ms; goal p99 < 20 ms)")
        print(f"rss     VmRSS idle {rss_idle / 1024:.1f} MB; max during stream {max(rss_samples) / 1024:.1f} MB"
              f" over {len(rss_samples)} samples (goal < 40 MB)")
        print(f"stop    Stop appended -> '⏸' line printed: {blocked_ms:.1f} ms")
        print(f"exit    Ctrl-D -> exit status {exit_status}"
              + (f"; LEFT RUNNING after exit: pids {leftovers}" if leftovers else "; no child process left running"))
        if len(arrived) != opts.events:
            missing = [k for k in written if k not in screen.seen][:10]
            print(f"missing markers (first 10): {missing}", file=sys.stderr)
            sys.exit(1)
    finally:
        log.close()
        if exit_status is None:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for p in processes_using(log_path):  # a tail the shell left behind: ours, end it by pid
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            os.close(fd)
        except OSError:
            pass
        if opts.keep:
            with open(os.path.join(work, "screen.txt"), "wb") as f:
                f.write(screen.text)
            print(f"kept {work} (screen.txt: what the terminal showed, ANSI stripped)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
