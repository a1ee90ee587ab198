"""Shared harness: a throw-away HOME and git repository, recording hooks, and a tmux pane driver.

Every hook in the recording settings runs `printf '%s\\n' "$(cat)" >> <events file>`: it reads the
JSON document the stand-in writes on stdin to EOF and appends it as one line, so each test can
read back the exact sequence of events and their fields.
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

CLAUDE = Path(__file__).resolve().parent.parent / "claude"
ALL_EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse",
              "PostToolUseFailure", "Notification", "Stop", "StopFailure", "SessionEnd"]


def load_claude_module():
    """The script as a module (it has no .py suffix), for unit tests of its pure functions."""
    loader = importlib.machinery.SourceFileLoader("fake_claude", str(CLAUDE))
    spec = importlib.util.spec_from_loader("fake_claude", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def recorder(events_file):
    return f"printf '%s\\n' \"$(cat)\" >> {shlex.quote(str(events_file))}"


def hook_settings(events_file, events=ALL_EVENTS):
    command = recorder(events_file)
    return {"hooks": {event: [{"hooks": [{"type": "command", "command": command}]}] for event in events}}


def wait_until(predicate, timeout=5.0, interval=0.02):
    """Poll predicate until it returns something truthy (returned) or timeout seconds pass (its
    last value is returned). The only way tests wait for the stand-in: never a bare sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def stays_false(predicate, seconds):
    """For "X must not happen": True if predicate stayed falsy for `seconds` (False as soon as it is not)."""
    return not wait_until(predicate, timeout=seconds)


FIRED_RE = re.compile(r"^(\d+\.\d+) \[\d+\] event (\w+) ")


class Sandbox:
    """HOME, a git repository, a state file that trusts it, and settings that record every hook."""

    def __init__(self, root):
        self.root = root
        self.home = root / "home"
        self.repo = root / "repo"
        self.events_file = root / "events.jsonl"
        self.settings_file = root / "hooks.json"
        self.home.mkdir()
        self.repo.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init")
        self.settings_file.write_text(json.dumps(hook_settings(self.events_file)))
        self.write_state({"hasCompletedOnboarding": True,
                          "projects": {str(self.repo): {"hasTrustDialogAccepted": True}}})
        self.env = self.base_env()

    def git(self, *args, cwd=None):
        return subprocess.run(["git", *args], cwd=cwd or self.repo, check=True, capture_output=True,
                              text=True, timeout=30).stdout

    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("FAKE_CLAUDE_", "CLAUDE", "TMUX", "IS_SANDBOX", "ANTHROPIC_"))}
        env.update({"HOME": str(self.home), "FAKE_CLAUDE_THINK_MS": "20",
                    "FAKE_CLAUDE_LOG": str(self.root / "fake-claude.log"),
                    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
        return env

    @property
    def state_file(self):
        return self.home / ".claude.json"

    def write_state(self, state):
        self.state_file.write_text(json.dumps(state))

    def state(self):
        return json.loads(self.state_file.read_text())

    def scenario(self, data):
        self.env["FAKE_CLAUDE_SCENARIO"] = json.dumps(data)

    def events(self):
        if not self.events_file.exists():
            return []
        return [json.loads(line) for line in self.events_file.read_text().splitlines() if line.strip()]

    def names(self):
        return [e["hook_event_name"] for e in self.events()]

    def fired_at(self, name):
        """Wall-clock times at which the stand-in fired event `name`, from its FAKE_CLAUDE_LOG.

        Measured by the stand-in itself, so delays between events can be checked exactly,
        however late the test notices them.
        """
        log = Path(self.env["FAKE_CLAUDE_LOG"])
        if not log.exists():
            return []
        return [float(m.group(1)) for line in log.read_text().splitlines()
                if (m := FIRED_RE.match(line)) and m.group(2) == name]

    def wait_for_event(self, name, count=1, timeout=5.0, **fields):
        def matching():
            found = [e for e in self.events() if e["hook_event_name"] == name
                     and all(e.get(k) == v for k, v in fields.items())]
            return found if len(found) >= count else None
        found = wait_until(matching, timeout)
        assert found, f"no {name} {fields or ''} within {timeout}s; got {self.names()}"
        return found[count - 1]

    def run(self, *args, cwd=None, stdin=None, timeout=20, **env):
        full_env = {**self.env, **env}
        return subprocess.run([str(CLAUDE), *args], cwd=cwd or self.repo, env=full_env, input=stdin,
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def sandbox(tmp_path):
    return Sandbox(tmp_path)


class TmuxPane:
    """The stand-in running in a pane of a private tmux server (its own -L socket)."""

    def __init__(self, sandbox, args, cwd=None, width=120, height=30):
        self.sandbox = sandbox
        self.socket = f"fake-claude-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.socket_path = self.server_pid = self.pane_pid = None
        self.args, self.cwd, self.width, self.height = args, cwd, width, height

    def start(self):
        """Start the server and the stand-in in its one pane (kill() cleans up even a failed start)."""
        config = self.sandbox.root / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g history-limit 2000\n")
        command = shlex.join([str(CLAUDE), *self.args])
        started = self.tmux("-f", str(config), "new-session", "-d", "-x", str(self.width), "-y", str(self.height),
                            "-c", str(self.cwd or self.sandbox.repo), command)
        assert started.returncode == 0, f"tmux new-session failed: {started.stderr}"
        server = self.tmux("display-message", "-p", "#{socket_path} #{pid} #{pane_pid}").stdout.split()
        self.socket_path, self.server_pid, self.pane_pid = server[0], int(server[1]), int(server[2])
        return self

    def tmux(self, *args, stdin=None):
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.sandbox.env, input=stdin,
                              capture_output=True, text=True, timeout=10)

    def type(self, text):
        self.tmux("send-keys", "-l", "--", text)

    def press(self, *keys):
        self.tmux("send-keys", *keys)

    def enter_after_pause(self, pause=0.15):
        """Enter as its own send-keys after the supervisor's pause (spec §10.2) -- the behaviour
        under test, not a wait for the stand-in: a faster Enter is part of a paste burst."""
        time.sleep(pause)
        self.press("Enter")

    def type_and_enter(self, text, pause=0.15):
        """What a supervisor does: literal text, a pause, then Enter as a separate command."""
        self.type(text)
        self.enter_after_pause(pause)

    def paste(self, text):
        self.tmux("load-buffer", "-b", "fake-claude-test", "-", stdin=text)
        self.tmux("paste-buffer", "-p", "-d", "-b", "fake-claude-test")

    def screen(self, history=False):
        """The visible pane; with history=True also its scrollback (tmux 3.3 scrolls a dead pane's
        last output off the screen when it prints "Pane is dead")."""
        return self.tmux("capture-pane", "-p", *(["-S", "-"] if history else [])).stdout

    def wait_screen(self, text, timeout=5.0):
        found = wait_until(lambda: text in self.screen(), timeout)
        assert found, f"{text!r} never appeared on screen:\n{self.screen()}"

    def dead_status(self):
        """None while the process runs, else its exit status (128+n for signal n).

        remain-on-exit keeps the dead pane; tmux may mark it dead (pty closed) a moment
        before it has reaped the process, so "dead without a status yet" counts as running.
        """
        done = self.tmux("display-message", "-p", "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}")
        assert done.returncode == 0, f"tmux display-message failed: {done.stderr}"
        dead, status, signal_number = (done.stdout.strip().split(":") + ["", "", ""])[:3]
        if dead != "1":
            return None
        if status:
            return int(status)
        return 128 + int(signal_number) if signal_number else None

    def wait_exit(self, timeout=5.0):
        """The exit status of the pane's process, once it has ended.

        tmux built with libutempter can miss a SIGCHLD and leave the exited process an unreaped
        zombie, so the pane never reads as dead (tmux/tmux#311, #4559). After a short wait we
        poke the server with SIGCHLD, which makes it reap: the known workaround.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            status = self.dead_status()
            if status is not None:
                return status
            if time.monotonic() - started > 0.3:
                os.kill(self.server_pid, signal.SIGCHLD)
            time.sleep(0.05)
        raise AssertionError(f"process still running after {timeout}s:\n{self.screen()}")

    def is_running(self):
        """True if the process is alive (after letting tmux reap a zombie it may have missed)."""
        os.kill(self.server_pid, signal.SIGCHLD)
        return stays_false(lambda: self.dead_status() is not None, 0.1)

    def composer(self):
        """The text after the idle composer's ❯ ("" when empty), or None when it is not drawn."""
        lines = [line.rstrip() for line in self.screen().splitlines()]
        for index, line in enumerate(lines):
            if line.startswith("❯") and index + 1 < len(lines) and lines[index + 1].startswith("─"):
                return line[1:].strip()
        return None

    def kill(self):
        """Stop the private server, make sure the stand-in is gone, remove the socket file (tmux
        leaves it behind). Safe after a failed start and when the server is already gone."""
        try:
            self.tmux("kill-server")
        except subprocess.TimeoutExpired:
            if self.server_pid:
                kill_quietly(self.server_pid)
        if self.pane_pid and not wait_until(lambda: not alive(self.pane_pid), timeout=3):
            kill_quietly(self.pane_pid)  # SIGHUP from kill-server did not end it
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive (our own children are reaped elsewhere)
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


@pytest.fixture
def pane(sandbox):
    """pane(args...) starts the stand-in in tmux; every server is killed at teardown."""
    started = []

    def start(*args, cwd=None):
        tmux_pane = TmuxPane(sandbox, list(args), cwd=cwd)
        started.append(tmux_pane)  # before starting: a failed start is cleaned up too
        return tmux_pane.start()

    yield start
    errors = []
    for tmux_pane in started:
        try:
            tmux_pane.kill()
        except Exception as error:  # keep cleaning up the others
            errors.append(error)
    if errors:
        raise errors[0]
