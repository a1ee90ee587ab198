"""Start-up failures and screens a supervisor has to cope with before the first hook: a process that
dies at once (FAKE_CLAUDE_DIE), an unknown extra screen (FAKE_CLAUDE_EXTRA_SCREEN) and the
API-key approval screen. Driven for real, in a tmux pane or without a terminal."""

import pytest

from conftest import wait_until

MCP_SCREEN = ("New MCP server found in .mcp.json: github\\n\\n"
              "❯ 1. Use this and all future MCP servers in this project\\n"
              "  2. Continue without using MCP servers\\n\\n"
              "Enter to confirm · Esc to reject")
ONE_TURN = {"turns": [{"text": "first turn done"}], "fallback": {"text": "reply to {prompt}"}}


def start(pane, sandbox, *args, prompt="fix the bug"):
    return pane("--settings", str(sandbox.settings_file), *args, "--", prompt)


def no_event_within(sandbox, seconds=0.5):
    """True if no hook fired for `seconds` (returns early, and False, as soon as one does)."""
    return wait_until(lambda: sandbox.events(), timeout=seconds) == []


# ── FAKE_CLAUDE_DIE ────────────────────────────────────────────────────────────

def test_die_prints_the_message_and_exits_1_without_any_hook(sandbox):
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi",
                       FAKE_CLAUDE_DIE="Invalid API key · Please run /login")
    assert done.returncode == 1
    assert done.stderr.strip() == "Invalid API key · Please run /login"
    assert sandbox.events() == []


def test_die_uses_the_configured_exit_status_and_multi_line_message(sandbox):
    done = sandbox.run("--settings", str(sandbox.settings_file), "hi", stdin="",
                       FAKE_CLAUDE_DIE="first line\\nsecond line", FAKE_CLAUDE_DIE_EXIT="7")
    assert done.returncode == 7
    assert done.stderr.splitlines() == ["first line", "second line"]
    assert sandbox.events() == []


def test_die_in_a_pane_comes_before_every_screen(sandbox, pane):
    sandbox.write_state({})  # neither onboarded nor trusted: screens would follow
    sandbox.env.update({"FAKE_CLAUDE_DIE": "Invalid API key · Please run /login", "FAKE_CLAUDE_DIE_EXIT": "3",
                        "ANTHROPIC_API_KEY": "sk-ant-api03-" + "x" * 40})
    agent = start(pane, sandbox)
    assert agent.wait_exit() == 3
    screen = agent.screen(history=True)
    assert "Invalid API key · Please run /login" in screen
    assert "Choose the text style" not in screen and "trust this folder" not in screen
    assert sandbox.events() == []
    assert sandbox.state() == {}


def test_a_bad_die_exit_status_falls_back_to_1(sandbox):
    done = sandbox.run("-p", "hi", FAKE_CLAUDE_DIE="gone", FAKE_CLAUDE_DIE_EXIT="lots")
    assert done.returncode == 1
    assert "FAKE_CLAUDE_DIE_EXIT" in done.stderr and done.stderr.strip().endswith("gone")


# ── FAKE_CLAUDE_EXTRA_SCREEN ───────────────────────────────────────────────────

@pytest.mark.parametrize("key", ["Enter", "1", "2", "Escape"])
def test_extra_screen_holds_back_every_hook_until_dismissed(sandbox, pane, key):
    sandbox.scenario(ONE_TURN)
    sandbox.env["FAKE_CLAUDE_EXTRA_SCREEN"] = MCP_SCREEN
    agent = start(pane, sandbox)
    agent.wait_screen("Enter to confirm · Esc to reject")
    lines = [line.rstrip() for line in agent.screen().splitlines()]
    expected = ["New MCP server found in .mcp.json: github", "",
                "❯ 1. Use this and all future MCP servers in this project",
                "  2. Continue without using MCP servers", "", "Enter to confirm · Esc to reject"]
    first = lines.index(expected[0])
    assert lines[first:first + len(expected)] == expected  # drawn verbatim, one line per \n
    assert no_event_within(sandbox)
    agent.press(key)
    sandbox.wait_for_event("Stop")
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "Stop"]
    agent.wait_screen("? for shortcuts")
    assert "New MCP server" not in agent.screen()


def test_other_keys_leave_the_extra_screen_up(sandbox, pane):
    sandbox.scenario(ONE_TURN)
    sandbox.env["FAKE_CLAUDE_EXTRA_SCREEN"] = "Release notes\nfor v9\nPress Enter to continue"
    agent = start(pane, sandbox)
    agent.wait_screen("Press Enter to continue")
    assert "for v9" in agent.screen()  # a real newline in the value separates lines too
    agent.type("x")
    agent.press("Down")
    assert no_event_within(sandbox)
    assert "Press Enter to continue" in agent.screen() and agent.is_running()
    agent.press("Enter")
    sandbox.wait_for_event("Stop")
    agent.wait_screen("? for shortcuts")
    assert "❯ x" not in agent.screen()  # keys that do not dismiss the screen are dropped


def test_extra_screen_comes_after_the_trust_dialog(sandbox, pane):
    sandbox.write_state({"hasCompletedOnboarding": True})
    sandbox.env["FAKE_CLAUDE_EXTRA_SCREEN"] = MCP_SCREEN
    agent = start(pane, sandbox)
    agent.wait_screen("Yes, I trust this folder")
    assert "New MCP server" not in agent.screen()
    agent.press("1")
    agent.wait_screen("New MCP server found")
    assert no_event_within(sandbox, 0.3)
    agent.press("Enter")
    sandbox.wait_for_event("SessionStart")


def test_print_mode_never_shows_the_extra_screen(sandbox):
    sandbox.scenario(ONE_TURN)
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi", FAKE_CLAUDE_EXTRA_SCREEN=MCP_SCREEN)
    assert done.returncode == 0 and done.stdout == "first turn done\n"
    assert "MCP" not in done.stdout + done.stderr
