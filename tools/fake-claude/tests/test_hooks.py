"""Hook configuration: matchers, merging of settings levels, dedupe, blocking, timeouts."""

import json
import time

from conftest import load_claude_module, recorder

TOOLS = {"turns": [{"tools": [
    {"tool_name": name, "tool_input": {"file_path": "x"}, "needs_permission": False}
    for name in ("Bash", "Edit", "NotebookEdit", "Write", "Read", "Glob", "mcp__github__create_issue")
]}]}


def command_hook(command, timeout=None):
    handler = {"type": "command", "command": command}
    if timeout is not None:
        handler["timeout"] = timeout
    return handler


def group(matcher, *handlers):
    entry = {"hooks": list(handlers)}
    if matcher is not None:
        entry["matcher"] = matcher
    return entry


def recorded(path, key="tool_name"):
    if not path.exists():
        return []
    return [json.loads(line).get(key) for line in path.read_text().splitlines()]


def test_pre_tool_use_matchers(sandbox):
    matchers = {"exact": "Bash", "regex": "Edit.*", "alternatives": "Write|Read", "comma": "Bash, Glob",
                "star": "*", "empty": "", "case": "bash", "mcp": "mcp__github__.*"}
    files = {name: sandbox.root / f"pre-{name}" for name in matchers}
    settings = {"hooks": {"PreToolUse": [group(m, command_hook(recorder(files[n]))) for n, m in matchers.items()]
                          + [group(None, command_hook(recorder(sandbox.root / "pre-absent")))]}}
    sandbox.scenario(TOOLS)
    assert sandbox.run("-p", "--settings", json.dumps(settings), "go").returncode == 0
    everything = ["Bash", "Edit", "NotebookEdit", "Write", "Read", "Glob", "mcp__github__create_issue"]
    assert recorded(files["exact"]) == ["Bash"]
    assert recorded(files["regex"]) == ["Edit", "NotebookEdit"]  # unanchored
    assert recorded(files["alternatives"]) == ["Write", "Read"]
    assert recorded(files["comma"]) == ["Bash", "Glob"]
    assert recorded(files["star"]) == everything
    assert recorded(files["empty"]) == everything
    assert recorded(sandbox.root / "pre-absent") == everything
    assert recorded(files["case"]) == []  # case-sensitive
    assert recorded(files["mcp"]) == ["mcp__github__create_issue"]


def test_matchers_on_session_events_and_ignored_on_stop(sandbox):
    startup, resume, stop = (sandbox.root / n for n in ("startup", "resume", "stop"))
    settings = {"hooks": {
        "SessionStart": [group("startup", command_hook(recorder(startup))),
                         group("resume", command_hook(recorder(resume)))],
        "Stop": [group("NoSuchThing", command_hook(recorder(stop)))],
    }}
    assert sandbox.run("-p", "--settings", json.dumps(settings), "hi").returncode == 0
    assert recorded(startup, "source") == ["startup"]
    assert recorded(resume, "source") == []
    assert recorded(stop, "hook_event_name") == ["Stop"]


def test_settings_levels_merge_and_identical_handlers_run_once(sandbox):
    shared, project_only, local_only, user_only = (sandbox.root / n for n in ("shared", "project", "local", "user"))
    (sandbox.home / ".claude").mkdir()
    (sandbox.repo / ".claude").mkdir()

    def stop_hooks(*paths):
        return {"hooks": {"Stop": [group(None, *[command_hook(recorder(p)) for p in paths])]}}

    (sandbox.home / ".claude" / "settings.json").write_text(json.dumps(stop_hooks(shared, user_only)))
    (sandbox.repo / ".claude" / "settings.json").write_text(json.dumps(stop_hooks(shared, project_only)))
    (sandbox.repo / ".claude" / "settings.local.json").write_text(json.dumps(stop_hooks(local_only, shared)))
    done = sandbox.run("-p", "--settings", json.dumps(stop_hooks(shared)), "hi")
    assert done.returncode == 0
    for path in (shared, project_only, local_only, user_only):
        assert recorded(path, "hook_event_name") == ["Stop"], path.name


def test_claude_config_dir_moves_user_settings_and_transcripts(sandbox):
    config = sandbox.root / "config"
    config.mkdir()
    (config / "settings.json").write_text(sandbox.settings_file.read_text())
    done = sandbox.run("-p", "hi", CLAUDE_CONFIG_DIR=str(config))
    assert done.returncode == 0
    start = sandbox.wait_for_event("SessionStart")
    assert start["transcript_path"].startswith(str(config / "projects") + "/")


def test_wrong_shaped_entries_are_ignored_with_a_warning(sandbox):
    settings = {"hooks": {"Stop": ["echo not-a-group"],
                          "SessionStart": [group(None, command_hook(recorder(sandbox.events_file)))],
                          "UserPromptSubmit": [{"matcher": "*", "hooks": ["echo not-a-handler"]}]}}
    done = sandbox.run("-p", "--settings", json.dumps(settings), "hi")
    assert done.returncode == 0
    assert "hooks.Stop[0]" in done.stderr and "hooks.UserPromptSubmit[0].hooks[0]" in done.stderr
    assert sandbox.names() == ["SessionStart"]


def test_disable_all_hooks(sandbox):
    settings = json.loads(sandbox.settings_file.read_text())
    settings["disableAllHooks"] = True
    assert sandbox.run("-p", "--settings", json.dumps(settings), "hi").returncode == 0
    assert sandbox.events() == []


def deny_settings(sandbox, pre_command):
    settings = json.loads(sandbox.settings_file.read_text())
    settings["hooks"]["PreToolUse"].append(group("Bash", command_hook(pre_command)))
    return json.dumps(settings)


BASH_THEN_WRITE = {"turns": [{"tools": [
    {"tool_name": "Bash", "tool_input": {"command": "touch should-not-exist"}, "effect": "real",
     "needs_permission": False},
    {"tool_name": "Write", "tool_input": {"file_path": "ok.txt", "content": "ok"}, "needs_permission": False},
]}]}


def post_tools(sandbox):
    return [e["tool_name"] for e in sandbox.events() if e["hook_event_name"] == "PostToolUse"]


def test_exit_2_on_pre_tool_use_denies_the_tool(sandbox):
    sandbox.scenario(BASH_THEN_WRITE)
    done = sandbox.run("-p", "--settings", deny_settings(sandbox, "cat >/dev/null; echo 'no shell today' >&2; exit 2"),
                       "go")
    assert done.returncode == 0
    assert post_tools(sandbox) == ["Write"]
    assert not (sandbox.repo / "should-not-exist").exists()
    transcript = sandbox.wait_for_event("Stop")["transcript_path"]
    results = [json.loads(line) for line in open(transcript) if '"tool_result"' in line]
    assert results[0]["message"]["content"][0]["is_error"] is True
    assert "no shell today" in results[0]["message"]["content"][0]["content"]


def test_permission_decision_deny_in_json_denies_the_tool(sandbox):
    output = json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                                "permissionDecisionReason": "nope"}})
    sandbox.scenario(BASH_THEN_WRITE)
    done = sandbox.run("-p", "--settings", deny_settings(sandbox, f"cat >/dev/null; echo '{output}'"), "go")
    assert done.returncode == 0
    assert post_tools(sandbox) == ["Write"]


def test_other_exit_codes_do_not_block(sandbox):
    sandbox.scenario(BASH_THEN_WRITE)
    done = sandbox.run("-p", "--settings", deny_settings(sandbox, "cat >/dev/null; exit 1"), "go")
    assert done.returncode == 0
    assert post_tools(sandbox) == ["Bash", "Write"]


def test_user_prompt_submit_exit_2_blocks_the_prompt(sandbox):
    settings = json.loads(sandbox.settings_file.read_text())
    settings["hooks"]["UserPromptSubmit"].append(group(None, command_hook("cat >/dev/null; exit 2")))
    assert sandbox.run("-p", "--settings", json.dumps(settings), "blocked").returncode == 0
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "SessionEnd"]


def test_a_hung_hook_is_cancelled_after_its_timeout_and_decides_nothing(sandbox):
    sandbox.scenario(BASH_THEN_WRITE)
    hung = command_hook("sleep 30; exit 2", timeout=0.5)
    settings = {"hooks": {"PreToolUse": [group("Bash", hung)],
                          "PostToolUse": [group(None, command_hook(recorder(sandbox.events_file)))]}}
    started = time.monotonic()
    done = sandbox.run("-p", "--settings", json.dumps(settings), "go")
    assert done.returncode == 0
    assert time.monotonic() - started < 5
    assert post_tools(sandbox) == ["Bash", "Write"]


def test_matching_handlers_run_in_parallel(sandbox):
    stamps = sandbox.root / "stamps"
    slow = [command_hook(f"cat >/dev/null; date +%s.%N >> {stamps}; sleep 0.6; echo {n} >/dev/null") for n in (1, 2, 3)]
    started = time.monotonic()
    done = sandbox.run("-p", "--settings", json.dumps({"hooks": {"Stop": [group(None, *slow)]}}), "hi")
    elapsed = time.monotonic() - started
    assert done.returncode == 0
    times = [float(t) for t in stamps.read_text().split()]
    assert len(times) == 3 and max(times) - min(times) < 0.4
    assert elapsed < 1.6  # serial would take 1.8 s of sleeping alone


def test_matcher_function_table():
    module = load_claude_module()
    match = module.matcher_matches
    assert match(None, "Bash") and match("", "Bash") and match("*", "Bash")
    assert match("Bash|Write", "Write") and not match("Bash|Write", "WriteX")
    assert match("Edit.*", "NotebookEdit")
    assert match("mcp-server", "mcp-server") and not match("mcp-server", "mcp")
    assert not match("(", "Bash")  # an invalid regex matches nothing
