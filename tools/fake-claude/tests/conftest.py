"""Shared harness: a throw-away HOME and git repository, recording hooks, and a tmux pane driver.

Every hook in the recording settings runs `printf '%s\\n' "$(cat)" >> <events file>`: it reads the
JSON document the stand-in writes on stdin to EOF and appends it as one line, so each test can
read back the exact sequence of events and their fields.
"""

import importlib.machinery
import importlib.util
import json
import os
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


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
                              text=True).stdout

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
        config = sandbox.root / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g history-limit 2000\n")
        command = shlex.join([str(CLAUDE), *args])
        self.tmux("-f", str(config), "new-session", "-d", "-x", str(width), "-y", str(height),
                  "-c", str(cwd or sandbox.repo), command)
        server = self.tmux("display-message", "-p", "#{socket_path} #{pid}").stdout.split()
        self.socket_path, self.server_pid = server[0], int(server[1])

    def tmux(self, *args, stdin=None):
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.sandbox.env, input=stdin,
                              capture_output=True, text=True, timeout=10)

    def type(self, text):
        self.tmux("send-keys", "-l", "--", text)

    def press(self, *keys):
        self.tmux("send-keys", *keys)

    def type_and_enter(self, text, pause=0.15):
        """What a supervisor does: literal text, a pause, then Enter as a separate command."""
        self.type(text)
        time.sleep(pause)
        self.press("Enter")

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
        time.sleep(0.1)
        return self.dead_status() is None

    def kill(self):
        """Stop the private server and remove its socket file (tmux leaves it behind)."""
        self.tmux("kill-server")
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)


@pytest.fixture
def pane(sandbox):
    """pane(args...) starts the stand-in in tmux; every server is killed at teardown."""
    started = []

    def start(*args, cwd=None):
        tmux_pane = TmuxPane(sandbox, list(args), cwd=cwd)
        started.append(tmux_pane)
        return tmux_pane

    yield start
    for tmux_pane in started:
        tmux_pane.kill()
