"""The stand-in on a bare pseudo-terminal: raw output bytes, signals, and the terminal going away."""

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time

import pytest

from conftest import CLAUDE, wait_until


class PtyAgent:
    def __init__(self, sandbox, *args):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self.proc = subprocess.Popen([str(CLAUDE), *args], stdin=slave, stdout=slave, stderr=slave,
                                     cwd=sandbox.repo, env=sandbox.env, start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = b""
        self.closing = False
        self.reader = threading.Thread(target=self.read_all, daemon=True)
        self.reader.start()

    def read_all(self):
        while not self.closing:
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def wait_output(self, needle, timeout=5.0):
        assert wait_until(lambda: needle in self.output, timeout), f"{needle!r} not in {self.output[-500:]!r}"

    def close_terminal(self):
        """Close the master side, as when the terminal emulator or tmux pane goes away."""
        self.closing = True
        self.reader.join(timeout=5)  # a read blocked in another thread would keep the master open
        os.close(self.master)

    def stop(self):
        """Teardown, also after a failed test: kill the stand-in's whole session, reap it, close the pty."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # start_new_session: its hooks are in the group
            except OSError:
                self.proc.kill()
            self.proc.wait(timeout=5)
        if not self.closing:
            self.close_terminal()


@pytest.fixture
def pty_agent(sandbox):
    agents = []

    def start(*args):
        agent = PtyAgent(sandbox, "--settings", str(sandbox.settings_file), *args)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        try:
            agent.stop()
        except Exception:  # keep cleaning up the others
            pass


def test_enables_bracketed_paste_and_draws_the_idle_composer(sandbox, pty_agent):
    sandbox.scenario({"turns": [{"text": "hi there"}]})
    agent = pty_agent("--", "hello")
    sandbox.wait_for_event("Stop")
    agent.wait_output("❯ ".encode())
    assert b"\x1b[?2004h" in agent.output
    assert agent.output.index(b"\x1b[?2004h") < agent.output.index("❯".encode())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_signals_fire_session_end_other(sandbox, pty_agent, signum):
    sandbox.scenario({"turns": [{"text": "hi there"}]})
    agent = pty_agent("--", "hello")
    sandbox.wait_for_event("Stop")
    agent.proc.send_signal(signum)
    assert agent.proc.wait(timeout=5) == 128 + signum
    end = sandbox.events()[-1]
    assert end["hook_event_name"] == "SessionEnd" and end["reason"] == "other"


def test_terminal_going_away_ends_the_session(sandbox, pty_agent):
    sandbox.scenario({"turns": [{"text": "hi there"}]})
    agent = pty_agent("--", "hello")
    sandbox.wait_for_event("Stop")
    agent.wait_output("? for shortcuts".encode())
    agent.close_terminal()
    agent.proc.wait(timeout=5)
    assert sandbox.wait_for_event("SessionEnd")["reason"] == "other"


def test_raw_bytes_paste_split_across_writes_and_a_late_enter(sandbox, pty_agent):
    sandbox.scenario({"turns": [{"text": "first"}]})
    agent = pty_agent("--", "hello")
    sandbox.wait_for_event("Stop")
    agent.wait_output("? for shortcuts".encode())
    for chunk in (b"\x1b[20", b"0~one\rtw", b"o\x1b[2", b"01~"):
        os.write(agent.master, chunk)
        time.sleep(0.05)
    time.sleep(0.15)
    os.write(agent.master, b"\r")
    assert sandbox.wait_for_event("UserPromptSubmit", count=2)["prompt"] == "one\ntwo"


def test_no_hook_ever_has_the_terminal(sandbox, pty_agent):
    sandbox.scenario({"turns": [{"text": "hi there"}]})
    probe = sandbox.root / "tty-probe"
    sandbox.settings_file.write_text(
        '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": '
        f'"cat >/dev/null; (exec 3</dev/tty) 2>/dev/null && echo tty > {probe} || echo notty > {probe}"'
        '}]}]}}')
    agent = pty_agent("--", "hello")
    assert wait_until(lambda: probe.exists() and probe.read_text().strip(), 5) == "notty"
    assert agent.proc.poll() is None
