"""Start-up checks and argument parsing, run without a terminal (-p or refusals)."""

import os
import subprocess
import uuid

import pytest

from conftest import CLAUDE

BASH_ONLY = {"turns": [{"tools": [{"tool_name": "Bash", "tool_input": {"command": "true"}}],
                        "text": "ran true"}]}


def test_refuses_to_start_inside_another_claude_session(sandbox):
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi", CLAUDECODE="1")
    assert done.returncode == 1
    assert "cannot be launched inside another Claude Code session" in done.stderr
    assert sandbox.events() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the refusal only applies to root")
@pytest.mark.parametrize("flags", [["--dangerously-skip-permissions"], ["--permission-mode", "bypassPermissions"]])
def test_refuses_bypass_permissions_as_root(sandbox, flags):
    done = sandbox.run("-p", *flags, "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 1
    assert "cannot be used with root/sudo privileges" in done.stderr
    assert sandbox.events() == []


def test_is_sandbox_allows_bypass_as_root_and_no_permission_is_asked(sandbox):
    sandbox.scenario(BASH_ONLY)
    done = sandbox.run("-p", "--dangerously-skip-permissions", "--settings", str(sandbox.settings_file),
                       "go", IS_SANDBOX="1")
    assert done.returncode == 0, done.stderr
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop",
                               "SessionEnd"]
    assert {e["permission_mode"] for e in sandbox.events()} == {"bypassPermissions"}


def test_rejects_a_session_id_that_is_not_a_uuid(sandbox):
    done = sandbox.run("-p", "--session-id", "task-12", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 1
    assert "Must be a valid UUID" in done.stderr
    assert sandbox.events() == []


def test_unknown_flag_warns_and_continues(sandbox):
    done = sandbox.run("-p", "--frobnicate", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 0
    assert "unknown option '--frobnicate'" in done.stderr
    assert sandbox.wait_for_event("UserPromptSubmit")["prompt"] == "hi"


@pytest.mark.parametrize("flag", ["--allowedTools", "--disallowedTools", "--add-dir", "--mcp-config"])
def test_variadic_flag_swallows_a_following_prompt(sandbox, flag):
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), flag, "Read", "hello there")
    assert done.returncode == 1
    assert "Input must be provided" in done.stderr
    assert sandbox.events() == []


def test_double_dash_ends_a_variadic_flag(sandbox):
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "--allowedTools", "Read", "Bash(git:*)",
                       "--", "hello there")
    assert done.returncode == 0, done.stderr
    assert sandbox.wait_for_event("UserPromptSubmit")["prompt"] == "hello there"


def test_allowed_tools_pre_approve_in_print_mode(sandbox):
    sandbox.scenario(BASH_ONLY)
    denied = sandbox.run("-p", "--settings", str(sandbox.settings_file), "go")
    assert denied.returncode == 0
    assert "PostToolUse" not in sandbox.names()  # -p cannot ask: the tool is denied
    sandbox.events_file.unlink()
    allowed = sandbox.run("-p", "--settings", str(sandbox.settings_file), "--allowedTools", "Bash(true)", "--", "go")
    assert allowed.returncode == 0
    assert sandbox.wait_for_event("PostToolUse")["tool_name"] == "Bash"


def test_settings_accepts_inline_json(sandbox):
    done = sandbox.run("-p", "--settings", sandbox.settings_file.read_text(), "inline")
    assert done.returncode == 0
    assert sandbox.wait_for_event("UserPromptSubmit")["prompt"] == "inline"


def test_invalid_permission_mode_is_rejected(sandbox):
    done = sandbox.run("-p", "--permission-mode", "yolo", "hi")
    assert done.returncode == 1
    assert "--permission-mode" in done.stderr


def test_version_and_help(sandbox):
    assert sandbox.run("--version").stdout.strip() == "2.1.240 (Claude Code)"
    assert "--session-id" in sandbox.run("--help").stdout


def test_runs_when_installed_as_claude_on_path(sandbox, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(CLAUDE)
    env = {**sandbox.env, "PATH": f"{bin_dir}:{sandbox.env['PATH']}"}
    done = subprocess.run(["claude", "-p", "--settings", str(sandbox.settings_file), "via path"],
                          cwd=sandbox.repo, env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert sandbox.wait_for_event("UserPromptSubmit")["prompt"] == "via path"


def test_interactive_mode_needs_a_terminal(sandbox):
    done = sandbox.run("--settings", str(sandbox.settings_file), "hi", stdin="")
    assert done.returncode == 1
    assert "Raw mode is not supported" in done.stderr


def test_session_id_already_in_use_is_refused(sandbox):
    session_id = str(uuid.uuid4())
    assert sandbox.run("-p", "--session-id", session_id, "first").returncode == 0
    again = sandbox.run("-p", "--session-id", session_id, "second")
    assert again.returncode == 1
    assert "already in use" in again.stderr


def test_bad_scenario_is_reported(sandbox):
    done = sandbox.run("-p", "hi", FAKE_CLAUDE_SCENARIO='{"turns": [{"tools": [{"tool_input": {}}]}]}')
    assert done.returncode == 1
    assert "bad scenario" in done.stderr and "tool_name" in done.stderr
