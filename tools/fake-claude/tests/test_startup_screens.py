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


# ── the API-key approval screen (spec §7) ──────────────────────────────────────

API_KEY = "sk-ant-api03-" + "a1b2c3d4e5" * 4 + "-QRSTUVWXyz012345AAAAbbbb"
SUFFIX = API_KEY[-20:]
TOOL_TURN = {"turns": [{"tools": [{"tool_name": "Write", "tool_input": {"file_path": "x.txt", "content": "x"},
                                   "effect": "real", "needs_permission": False}], "text": "wrote x"}],
             "fallback": {"text": "reply to {prompt}"}}


def with_key(sandbox, scenario=TOOL_TURN, **state):
    sandbox.scenario(scenario)
    sandbox.env["ANTHROPIC_API_KEY"] = API_KEY
    sandbox.write_state({"hasCompletedOnboarding": True, "theme": "dark",
                         "projects": {str(sandbox.repo): {"hasTrustDialogAccepted": True, "allowedTools": []}},
                         **state})


def wait_key_screen(agent):
    agent.wait_screen("Do you want to use this API key?")
    lines = [line.strip() for line in agent.screen().splitlines()]
    assert "Detected a custom API key in your environment" in lines
    assert f"ANTHROPIC_API_KEY: sk-ant-...{API_KEY[-8:]}" in lines
    assert "1. Yes" in lines and "❯ 2. No (recommended)" in lines  # No is preselected


def assert_rest_of_state_kept(sandbox):
    state = sandbox.state()
    assert state["hasCompletedOnboarding"] is True and state["theme"] == "dark"
    assert state["projects"][str(sandbox.repo)] == {"hasTrustDialogAccepted": True, "allowedTools": []}
    return state


@pytest.mark.parametrize("keys", [["1"], ["Up", "Enter"]], ids=["1", "up-enter"])
def test_api_key_screen_is_on_by_default_and_yes_approves(sandbox, pane, keys):
    with_key(sandbox)
    agent = start(pane, sandbox)
    wait_key_screen(agent)
    assert no_event_within(sandbox)
    for key in keys:
        agent.press(key)
    assert sandbox.wait_for_event("Stop")["last_assistant_message"] == "wrote x"
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"]
    assert_rest_of_state_kept(sandbox)["customApiKeyResponses"] == {"approved": [SUFFIX], "rejected": []}


@pytest.mark.parametrize("key", ["Enter", "2", "Escape"])
def test_api_key_no_is_remembered_and_every_turn_fails_to_authenticate(sandbox, pane, key):
    with_key(sandbox, customApiKeyResponses={"approved": ["other-key-suffix-0001"], "rejected": []})
    agent = start(pane, sandbox)
    wait_key_screen(agent)
    agent.press(key)
    failure = sandbox.wait_for_event("StopFailure")
    assert failure["error"] == "authentication_failed"
    assert failure["last_assistant_message"] == "Invalid API key · Please run /login"
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "StopFailure"]  # no tool, no Stop
    assert not (sandbox.repo / "x.txt").exists()
    assert_rest_of_state_kept(sandbox)["customApiKeyResponses"] == {
        "approved": ["other-key-suffix-0001"], "rejected": [SUFFIX]}
    agent.wait_screen("Invalid API key")
    agent.wait_screen("? for shortcuts")
    agent.type_and_enter("try again")
    assert sandbox.wait_for_event("StopFailure", count=2)["error"] == "authentication_failed"
    assert "Stop" not in sandbox.names() and agent.is_running()


def test_a_key_rejected_before_fails_without_asking_again(sandbox, pane):
    with_key(sandbox, customApiKeyResponses={"approved": [], "rejected": [SUFFIX]})
    agent = start(pane, sandbox)
    assert sandbox.wait_for_event("StopFailure")["error"] == "authentication_failed"
    assert "Do you want to use this API key?" not in agent.screen()
    assert sandbox.state()["customApiKeyResponses"] == {"approved": [], "rejected": [SUFFIX]}


def test_a_key_approved_before_is_not_asked_about_again(sandbox, pane):
    with_key(sandbox, customApiKeyResponses={"approved": [SUFFIX]})
    agent = start(pane, sandbox)
    assert sandbox.wait_for_event("Stop")["last_assistant_message"] == "wrote x"
    assert "Do you want to use this API key?" not in agent.screen()


def test_a_different_key_is_asked_about_and_odd_state_is_repaired(sandbox, pane):
    with_key(sandbox, customApiKeyResponses=None)
    agent = start(pane, sandbox)
    wait_key_screen(agent)
    agent.press("1")
    sandbox.wait_for_event("Stop")
    assert sandbox.state()["customApiKeyResponses"] == {"approved": [SUFFIX], "rejected": []}


def test_api_key_prompt_0_keeps_the_old_behaviour(sandbox, pane):
    with_key(sandbox, customApiKeyResponses={"approved": [], "rejected": [SUFFIX]})
    sandbox.env["FAKE_CLAUDE_API_KEY_PROMPT"] = "0"
    agent = start(pane, sandbox)
    assert sandbox.wait_for_event("Stop")["last_assistant_message"] == "wrote x"
    assert "StopFailure" not in sandbox.names()
    assert "API key" not in agent.screen()


def test_print_mode_always_uses_the_key(sandbox):
    with_key(sandbox, customApiKeyResponses={"approved": [], "rejected": [SUFFIX]})
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 0 and done.stdout == "wrote x\n"
    assert "StopFailure" not in sandbox.names()


def test_without_a_key_there_is_no_screen(sandbox, pane):
    sandbox.scenario(ONE_TURN)
    sandbox.env["ANTHROPIC_API_KEY"] = ""
    start(pane, sandbox)
    sandbox.wait_for_event("Stop")
    assert "customApiKeyResponses" not in sandbox.state()


def test_screen_order_trust_then_api_key_then_extra_screen(sandbox, pane):
    with_key(sandbox)
    sandbox.write_state({"hasCompletedOnboarding": True})
    sandbox.env["FAKE_CLAUDE_EXTRA_SCREEN"] = MCP_SCREEN
    agent = start(pane, sandbox)
    for marker, key in [("Yes, I trust this folder", "1"), ("Do you want to use this API key?", "1"),
                        ("New MCP server found", "Enter")]:
        agent.wait_screen(marker)
        assert sandbox.events() == []
        agent.press(key)
    assert sandbox.wait_for_event("Stop")["last_assistant_message"] == "wrote x"
    state = sandbox.state()
    assert state["customApiKeyResponses"]["approved"] == [SUFFIX]
    assert state["projects"][str(sandbox.repo)]["hasTrustDialogAccepted"] is True
