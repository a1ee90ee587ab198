"""The interactive stand-in driven the way a supervisor drives it: in a tmux pane, with send-keys,
paste-buffer and capture-pane, checking the hook events it records."""

import time
import uuid

import pytest

from conftest import stays_false, wait_until

PERMISSION_TURN = {"turns": [{
    "tools": [
        {"tool_name": "Bash", "tool_input": {"command": "echo hi > from-bash.txt", "description": "Say hi"},
         "effect": "real"},
        {"tool_name": "Write", "tool_input": {"file_path": "plan.md", "content": "plan"}, "effect": "real",
         "needs_permission": False},
    ],
    "text": "All done.",
}], "fallback": {"text": "reply to {prompt}"}}
NO_TOOLS = {"turns": [{"text": "ok"}]}


def start(pane, sandbox, *args, prompt="fix the bug"):
    """The supervisor's launch line: options, then -- and the prompt as one argument."""
    extra = ["--", prompt] if prompt is not None else []
    return pane("--settings", str(sandbox.settings_file), *args, *extra)


def no_event_within(sandbox, seconds):
    return stays_false(sandbox.events, seconds)


def after_first_stop(pane, sandbox, *args):
    sandbox.scenario({"turns": [{"text": "first turn done"}], "fallback": {"text": "reply to {prompt}"}})
    agent = start(pane, sandbox, *args)
    sandbox.wait_for_event("Stop")
    agent.wait_screen("❯")
    return agent


def test_interactive_turn_with_permission_prompt_answered_1(sandbox, pane):
    sandbox.scenario(PERMISSION_TURN)
    session_id = str(uuid.uuid4())
    agent = start(pane, sandbox, "--session-id", session_id)
    request = sandbox.wait_for_event("PermissionRequest")
    assert request["tool_name"] == "Bash" and request["tool_input"]["command"] == "echo hi > from-bash.txt"
    assert "tool_use_id" not in request
    agent.wait_screen("Do you want to proceed?")
    screen = agent.screen()
    assert "❯ 1. Yes" in screen and "2. Yes, and don't ask again" in screen and "3. No" in screen
    assert "PostToolUse" not in sandbox.names()
    agent.press("1")
    sandbox.wait_for_event("Stop")
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest",
                               "PostToolUse", "PreToolUse", "PostToolUse", "Stop"]
    assert {e["session_id"] for e in sandbox.events()} == {session_id}
    assert sandbox.events()[1]["prompt"] == "fix the bug"
    assert (sandbox.repo / "from-bash.txt").read_text() == "hi\n"
    agent.wait_screen("? for shortcuts")
    assert agent.is_running()  # still alive at its prompt


def test_permission_denied_with_esc_after_a_permission_notification(sandbox, pane):
    sandbox.scenario(PERMISSION_TURN)
    sandbox.env["FAKE_CLAUDE_PERMISSION_NOTIFY_MS"] = "200"
    agent = start(pane, sandbox)
    sandbox.wait_for_event("PermissionRequest")
    note = sandbox.wait_for_event("Notification")
    assert note["notification_type"] == "permission_prompt" and "permission" in note["message"]
    [asked], [notified] = sandbox.fired_at("PermissionRequest"), sandbox.fired_at("Notification")
    assert notified - asked >= 0.2  # the configured delay, timed by the stand-in itself
    agent.press("Escape")
    sandbox.wait_for_event("Stop")
    assert [e["tool_name"] for e in sandbox.events() if e["hook_event_name"] == "PostToolUse"] == ["Write"]
    assert not (sandbox.repo / "from-bash.txt").exists()


def test_keystrokes_restart_the_permission_notification_timer(sandbox, pane):
    sandbox.scenario(PERMISSION_TURN)
    sandbox.env["FAKE_CLAUDE_PERMISSION_NOTIFY_MS"] = "800"
    agent = start(pane, sandbox)
    sandbox.wait_for_event("PermissionRequest")
    agent.wait_screen("❯ 1. Yes")
    asked = time.monotonic()
    selected = 1
    while time.monotonic() - asked < 1.2:  # arrow keys for longer than the delay, each well within it
        agent.press("Down")
        selected = selected % 3 + 1
        agent.wait_screen(f"❯ {selected}. ")  # the stand-in has the key
        time.sleep(0.15)  # pacing: the gap between keystrokes under test
    assert "Notification" not in sandbox.names()
    for _ in range(selected - 1):
        agent.press("Up")
    agent.wait_screen("❯ 1. Yes")
    agent.press("Enter")
    sandbox.wait_for_event("Stop")
    assert sandbox.names().count("PostToolUse") == 2
    assert "Notification" not in sandbox.names()


def test_option_2_remembers_the_tool_for_the_session(sandbox, pane):
    bash = {"tool_name": "Bash", "tool_input": {"command": "true"}}
    sandbox.scenario({"turns": [{"tools": [bash, bash]}]})
    agent = start(pane, sandbox)
    sandbox.wait_for_event("PermissionRequest")
    agent.press("2")
    sandbox.wait_for_event("Stop")
    assert sandbox.names().count("PermissionRequest") == 1
    assert sandbox.names().count("PostToolUse") == 2


def test_trust_dialog_holds_back_every_hook_until_accepted(sandbox, pane):
    sandbox.scenario(NO_TOOLS)
    sandbox.write_state({"hasCompletedOnboarding": True})
    agent = start(pane, sandbox)
    agent.wait_screen("Yes, I trust this folder")
    assert "Quick safety check" in agent.screen() and "2. No, exit" in agent.screen()
    assert no_event_within(sandbox, 0.5)
    agent.press("1")
    sandbox.wait_for_event("Stop")
    assert sandbox.names()[:2] == ["SessionStart", "UserPromptSubmit"]
    state = sandbox.state()
    assert state["projects"][str(sandbox.repo)]["hasTrustDialogAccepted"] is True
    assert state["hasCompletedOnboarding"] is True  # merged, not overwritten


def test_trust_dialog_enter_accepts_the_selected_first_option(sandbox, pane):
    sandbox.write_state({"hasCompletedOnboarding": True})
    agent = start(pane, sandbox)
    agent.wait_screen("❯ 1. Yes, I trust this folder")
    agent.press("Enter")
    sandbox.wait_for_event("SessionStart")


def test_trust_dialog_esc_exits_without_any_hook(sandbox, pane):
    sandbox.write_state({"hasCompletedOnboarding": True})
    agent = start(pane, sandbox)
    agent.wait_screen("Yes, I trust this folder")
    agent.press("Escape")
    assert agent.wait_exit() == 1
    assert sandbox.events() == []
    assert "projects" not in sandbox.state()


def test_worktree_is_trusted_through_its_main_checkout(sandbox, pane):
    worktree = sandbox.root / "wt"
    sandbox.git("worktree", "add", "-q", "-b", "task-1", str(worktree))
    agent = pane("--settings", str(sandbox.settings_file), "--", "in a worktree", cwd=worktree)
    start_event = sandbox.wait_for_event("SessionStart")
    assert start_event["cwd"] == str(worktree)
    assert "trust this folder" not in agent.screen()


def test_untrusted_worktree_shows_the_dialog_for_the_main_root(sandbox, pane):
    sandbox.write_state({"hasCompletedOnboarding": True, "projects": {str(sandbox.root / "wt"): {}}})
    worktree = sandbox.root / "wt"
    sandbox.git("worktree", "add", "-q", "-b", "task-2", str(worktree))
    agent = pane("--settings", str(sandbox.settings_file), "--", "hi", cwd=worktree)
    agent.wait_screen("Yes, I trust this folder")
    assert str(sandbox.repo) in agent.screen()
    agent.press("1")
    sandbox.wait_for_event("SessionStart")
    assert sandbox.state()["projects"][str(sandbox.repo)]["hasTrustDialogAccepted"] is True


def test_onboarding_comes_first_and_discards_the_session_id(sandbox, pane):
    sandbox.write_state({"projects": {str(sandbox.repo): {"hasTrustDialogAccepted": True}}})
    session_id = str(uuid.uuid4())
    agent = start(pane, sandbox, "--session-id", session_id)
    agent.wait_screen("Choose the text style")
    assert no_event_within(sandbox, 0.3)
    agent.press("Enter")
    start_event = sandbox.wait_for_event("SessionStart")
    assert start_event["session_id"] != session_id
    assert sandbox.state()["hasCompletedOnboarding"] is True


def test_typed_reply_with_separate_enter_submits_the_exact_text(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    text = 'please add tests; then run `echo $HOME` and "quote" it -- ok'
    agent.type_and_enter(text)
    submitted = sandbox.wait_for_event("UserPromptSubmit", count=2)
    assert submitted["prompt"] == text
    assert sandbox.wait_for_event("Stop", count=2)["last_assistant_message"] == f"reply to {text}"


def test_text_and_enter_in_one_burst_stay_in_the_composer(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    agent.tmux("send-keys", "-l", "--", "hello world", ";", "send-keys", "Enter")
    agent.wait_screen("❯ hello world")
    assert stays_false(lambda: sandbox.names().count("UserPromptSubmit") > 1, 0.6)
    assert "❯ hello world" in agent.screen()
    agent.press("Enter")  # a later, separate Enter submits what is in the composer
    assert sandbox.wait_for_event("UserPromptSubmit", count=2)["prompt"].startswith("hello world")


def test_paste_burst_switch_off_submits_a_burst_enter(sandbox, pane):
    sandbox.env["FAKE_CLAUDE_PASTE_BURST"] = "0"
    agent = after_first_stop(pane, sandbox)
    agent.tmux("send-keys", "-l", "--", "hello world", ";", "send-keys", "Enter")
    assert sandbox.wait_for_event("UserPromptSubmit", count=2)["prompt"] == "hello world"


def test_bracketed_paste_keeps_newlines_until_a_separate_enter(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    text = "line one\nline two; with semicolon;\n\tindented three"
    agent.paste(text)
    agent.wait_screen("line two; with semicolon;")
    assert sandbox.names().count("UserPromptSubmit") == 1
    agent.enter_after_pause()
    assert sandbox.wait_for_event("UserPromptSubmit", count=2)["prompt"] == text


def test_ctrl_j_inserts_a_newline(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    agent.type("first")
    agent.press("C-j")
    agent.type("second")
    agent.wait_screen("  second")
    agent.enter_after_pause()
    assert sandbox.wait_for_event("UserPromptSubmit", count=2)["prompt"] == "first\nsecond"


def test_scenario_turns_are_taken_in_order_within_a_session(sandbox, pane):
    sandbox.scenario({"turns": [{"text": "one"}, {"text": "two"}, {"match": "special", "text": "matched"}],
                      "fallback": {"text": "fallback"}})
    agent = start(pane, sandbox)
    sandbox.wait_for_event("Stop")
    for count, prompt in enumerate(["a special request", "next", "more"], start=2):
        agent.wait_screen("? for shortcuts")
        agent.type_and_enter(prompt)
        sandbox.wait_for_event("Stop", count=count)
    replies = [e["last_assistant_message"] for e in sandbox.events() if e["hook_event_name"] == "Stop"]
    assert replies == ["one", "matched", "two", "fallback"]


def test_idle_prompt_notification_after_the_delay_and_typing_resets_it(sandbox, pane):
    sandbox.env["FAKE_CLAUDE_IDLE_NOTIFY_MS"] = "800"
    agent = after_first_stop(pane, sandbox)
    note = sandbox.wait_for_event("Notification")
    assert note["notification_type"] == "idle_prompt"
    [stopped], [notified] = sandbox.fired_at("Stop"), sandbox.fired_at("Notification")
    assert notified - stopped >= 0.8  # the configured delay, timed by the stand-in itself
    agent.type_and_enter("again")
    sandbox.wait_for_event("Stop", count=2)
    agent.wait_screen("? for shortcuts")
    typed, began = "", time.monotonic()
    while time.monotonic() - began < 1.4:  # keep typing for longer than the delay, each key within it
        typed += "abcdefghij"[len(typed) % 10]
        agent.type(typed[-1])
        agent.wait_screen(f"❯ {typed}")  # the stand-in has the key
        time.sleep(0.15)  # pacing: the gap between keystrokes under test
    assert sandbox.names().count("Notification") == 1
    sandbox.wait_for_event("Notification", count=2)
    assert sandbox.fired_at("Notification")[1] - sandbox.fired_at("Stop")[1] >= 1.4


def test_exit_command_fires_session_end_and_exits_0(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    agent.type_and_enter("/exit")
    assert agent.wait_exit() == 0
    assert sandbox.events()[-1]["hook_event_name"] == "SessionEnd"
    assert sandbox.events()[-1]["reason"] == "prompt_input_exit"
    assert sandbox.names().count("UserPromptSubmit") == 1


def test_ctrl_d_exits_only_on_an_empty_composer(sandbox, pane):
    agent = after_first_stop(pane, sandbox)
    agent.type("draft")
    agent.wait_screen("❯ draft")
    agent.press("C-d")
    assert stays_false(lambda: agent.dead_status() is not None, 0.3)
    assert agent.is_running() and agent.composer() == "draft"
    agent.press("BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
    assert wait_until(lambda: agent.composer() == ""), agent.screen()
    agent.press("C-d")
    assert agent.wait_exit() == 0
    assert sandbox.wait_for_event("SessionEnd")["reason"] == "prompt_input_exit"


def test_esc_interrupts_a_busy_turn_without_stop(sandbox, pane):
    sandbox.scenario({"turns": [{"think_ms": 5000, "text": "too slow"}], "fallback": {"text": "quick"}})
    agent = start(pane, sandbox)
    sandbox.wait_for_event("UserPromptSubmit")
    agent.wait_screen("esc to interrupt")
    agent.press("Escape")
    agent.wait_screen("Interrupted")
    assert wait_until(lambda: "esc to interrupt" not in agent.screen()), agent.screen()
    assert stays_false(lambda: "Stop" in sandbox.names(), 0.3)
    agent.type_and_enter("go on")
    assert sandbox.wait_for_event("Stop")["last_assistant_message"] == "quick"


def test_stop_failure_in_an_interactive_turn_keeps_the_session(sandbox, pane):
    sandbox.scenario({"turns": [{"error": "overloaded"}]})
    agent = start(pane, sandbox)
    assert sandbox.wait_for_event("StopFailure")["error"] == "overloaded"
    agent.wait_screen("Overloaded")
    assert "Stop" not in sandbox.names() and agent.is_running()


def test_scenario_exit_code_after_a_turn(sandbox, pane):
    sandbox.scenario({"turns": [{"text": "bye", "exit_code": 4}]})
    agent = start(pane, sandbox)
    assert agent.wait_exit() == 4
    assert sandbox.names()[-2:] == ["Stop", "SessionEnd"]


def test_resume_interactively_fires_session_start_resume(sandbox, pane):
    session_id = str(uuid.uuid4())
    assert sandbox.run("-p", "--session-id", session_id, "first").returncode == 0
    agent = pane("--settings", str(sandbox.settings_file), "--resume", session_id)
    start_event = sandbox.wait_for_event("SessionStart")
    assert start_event["source"] == "resume" and start_event["session_id"] == session_id
    agent.wait_screen("? for shortcuts")
    assert "UserPromptSubmit" not in sandbox.names()  # no prompt given: waits for input


@pytest.mark.parametrize("mode", ["downgrade", "warn"])
def test_bypass_permissions_warning_when_not_accepted(sandbox, pane, mode):
    sandbox.env.update({"IS_SANDBOX": "1", "FAKE_CLAUDE_BYPASS_UNACCEPTED": mode})
    agent = start(pane, sandbox, "--dangerously-skip-permissions")
    if mode == "warn":
        agent.wait_screen("Bypass Permissions mode")
        assert sandbox.events() == []
        agent.press("2")
        assert sandbox.wait_for_event("SessionStart")["permission_mode"] == "bypassPermissions"
        assert sandbox.state()["bypassPermissionsModeAccepted"] is True
    else:
        assert sandbox.wait_for_event("SessionStart")["permission_mode"] == "default"


def test_nothing_fires_while_a_dialog_waits_even_with_a_long_wait(sandbox, pane):
    sandbox.scenario(NO_TOOLS)
    sandbox.write_state({})  # neither onboarded nor trusted
    agent = start(pane, sandbox)
    agent.wait_screen("Choose the text style")
    agent.press("Enter")
    agent.wait_screen("Yes, I trust this folder")
    assert wait_until(lambda: sandbox.events(), timeout=0.5) == []
    agent.press("1")
    sandbox.wait_for_event("Stop")
