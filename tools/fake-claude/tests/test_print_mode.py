"""-p mode: the same hooks as a turn, no TUI; payload fields, transcripts, resume, failures."""

import json
import uuid
from pathlib import Path

TURN = {"turns": [{
    "tools": [
        {"tool_name": "Write", "effect": "real", "needs_permission": False,
         "tool_input": {"file_path": "notes/hello.txt", "content": "hello\n"}},
        {"tool_name": "Bash", "effect": "real", "needs_permission": False,
         "tool_input": {"command": "git add -A && git commit -q -m 'add hello' && echo committed"}},
    ],
    "text": "Committed hello.txt for: {prompt}",
}]}


def run_turn(sandbox, *extra, prompt="add a greeting", **env):
    sandbox.scenario(TURN)
    session_id = str(uuid.uuid4())
    done = sandbox.run("-p", "--session-id", session_id, "--settings", str(sandbox.settings_file), *extra,
                       "--", prompt, **env)
    assert done.returncode == 0, done.stderr
    return session_id, done


def test_print_mode_fires_the_hooks_of_a_turn_in_order(sandbox):
    _, done = run_turn(sandbox)
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                               "PreToolUse", "PostToolUse", "Stop", "SessionEnd"]
    assert done.stdout == "Committed hello.txt for: add a greeting\n"


def test_payloads_carry_the_documented_fields(sandbox):
    session_id, _ = run_turn(sandbox)
    events = sandbox.events()
    transcript = Path(events[0]["transcript_path"])
    for event in events:
        assert event["session_id"] == session_id
        assert event["transcript_path"] == str(transcript)
        assert event["cwd"] == str(sandbox.repo)
        assert event["permission_mode"] == "default"
    start, prompt, pre, post = events[0], events[1], events[2], events[3]
    assert start["source"] == "startup"
    assert prompt["prompt"] == "add a greeting"
    assert pre["tool_name"] == "Write"
    assert pre["tool_input"] == {"file_path": str(sandbox.repo / "notes/hello.txt"), "content": "hello\n"}
    assert pre["tool_use_id"].startswith("toolu_") and post["tool_use_id"] == pre["tool_use_id"]
    assert post["tool_response"]["filePath"] == str(sandbox.repo / "notes/hello.txt")
    bash_post = events[5]
    assert bash_post["tool_response"]["stdout"] == "committed\n"
    stop = events[6]
    assert stop["stop_hook_active"] is False
    assert stop["last_assistant_message"] == "Committed hello.txt for: add a greeting"
    assert "stop_reason" not in stop
    assert events[7]["reason"] == "other"


def test_real_side_effects_happen_in_the_working_directory(sandbox):
    run_turn(sandbox)
    assert (sandbox.repo / "notes" / "hello.txt").read_text() == "hello\n"
    assert sandbox.git("log", "-1", "--format=%s").strip() == "add hello"


def test_hook_stdin_is_one_compact_json_line_then_eof(sandbox):
    raw = sandbox.root / "raw-stdin"
    settings = {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"cat > {raw}"}]}]}}
    done = sandbox.run("-p", "--settings", json.dumps(settings), "compact please")
    assert done.returncode == 0
    text = raw.read_text()
    assert "\n" not in text and ": " not in text and ", " not in text
    assert json.loads(text)["hook_event_name"] == "UserPromptSubmit"


def test_hook_environment_cwd_and_no_terminal(sandbox):
    out = sandbox.root / "hook-env"
    command = (f"cat >/dev/null; (exec 3</dev/tty) 2>/dev/null && t=tty || t=notty; "
               f"echo \"$CLAUDECODE|$CLAUDE_PROJECT_DIR|$TASK_ID|$(pwd)|$t|${{OTEL_X-unset}}\" > {out}")
    settings = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": command}]}]}}
    done = sandbox.run("-p", "--settings", json.dumps(settings), "env check", TASK_ID="12", OTEL_X="1")
    assert done.returncode == 0
    assert out.read_text().strip() == f"1|{sandbox.repo}|12|{sandbox.repo}|notty|unset"


def test_stop_reason_only_with_the_legacy_switch(sandbox):
    run_turn(sandbox, FAKE_CLAUDE_STOP_REASON="1")
    assert sandbox.wait_for_event("Stop")["stop_reason"] == "end_turn"


def test_transcript_has_the_documented_record_shapes(sandbox):
    session_id, _ = run_turn(sandbox)
    path = Path(sandbox.events()[0]["transcript_path"])
    encoded = "".join(c if c.isalnum() else "-" for c in str(sandbox.repo))
    assert path == sandbox.home / ".claude" / "projects" / encoded / f"{session_id}.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    shapes = [(r["type"], r.get("subtype") or first_content_type(r)) for r in records]
    assert shapes == [("user", "text"),
                      ("assistant", "text"), ("assistant", "tool_use"), ("user", "tool_result"),
                      ("assistant", "text"), ("assistant", "tool_use"), ("user", "tool_result"),
                      ("assistant", "text"),
                      ("system", "stop_hook_summary"), ("system", "turn_duration")]
    assert records[0]["parentUuid"] is None
    assert all(b["parentUuid"] == a["uuid"] for a, b in zip(records, records[1:]))
    assert all(r["sessionId"] == session_id and r["cwd"] == str(sandbox.repo) for r in records)
    assert [r["message"]["stop_reason"] for r in records if r["type"] == "assistant"] == [
        None, "tool_use", None, "tool_use", "end_turn"]
    assert records[8]["hookCount"] == 1


def first_content_type(record):
    content = record["message"]["content"]
    return "text" if isinstance(content, str) else content[0]["type"]


def test_resume_appends_to_the_same_transcript(sandbox):
    session_id, _ = run_turn(sandbox)
    path = Path(sandbox.events()[0]["transcript_path"])
    lines_before = len(path.read_text().splitlines())
    sandbox.events_file.unlink()
    done = sandbox.run("-p", "--resume", session_id, "--settings", str(sandbox.settings_file), "once more")
    assert done.returncode == 0, done.stderr
    start = sandbox.wait_for_event("SessionStart")
    assert start["source"] == "resume" and start["session_id"] == session_id
    assert start["transcript_path"] == str(path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) > lines_before
    assert records[lines_before]["message"]["content"] == "once more"
    assert records[lines_before]["parentUuid"] == records[lines_before - 1]["uuid"]


def test_resume_of_an_unknown_session_fails(sandbox):
    unknown = str(uuid.uuid4())
    done = sandbox.run("-r", unknown, "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 1
    assert f"No conversation found with session ID: {unknown}" in done.stderr
    assert sandbox.events() == []


def test_scripted_api_error_fires_stop_failure_instead_of_stop(sandbox):
    sandbox.scenario({"turns": [{"error": "rate_limit"}]})
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 1
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "StopFailure", "SessionEnd"]
    failure = sandbox.events()[2]
    assert failure["error"] == "rate_limit" and "Rate limit" in failure["last_assistant_message"]


def test_api_error_switch_applies_to_every_turn(sandbox):
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi", FAKE_CLAUDE_API_ERROR="overloaded")
    assert done.returncode == 1
    assert sandbox.wait_for_event("StopFailure")["error"] == "overloaded"
    assert "Stop" not in sandbox.names()


def test_scenario_exit_code_ends_the_process(sandbox):
    sandbox.scenario({"turns": [{"text": "giving up", "exit_code": 3}]})
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 3
    assert sandbox.names()[-2:] == ["Stop", "SessionEnd"]


def test_failing_tools_fire_post_tool_use_failure(sandbox):
    sandbox.scenario({"turns": [{"tools": [
        {"tool_name": "Read", "tool_input": {"file_path": "missing.txt"}, "fail": "File does not exist."},
        {"tool_name": "Bash", "needs_permission": False, "effect": {"shell": "echo oops >&2; exit 3"},
         "tool_input": {"command": "make"}},
    ]}]})
    done = sandbox.run("-p", "--settings", str(sandbox.settings_file), "hi")
    assert done.returncode == 0
    assert sandbox.names() == ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUseFailure",
                               "PreToolUse", "PostToolUseFailure", "Stop", "SessionEnd"]
    read_failure, bash_failure = sandbox.events()[3], sandbox.events()[5]
    assert read_failure["error"] == "File does not exist." and read_failure["is_interrupt"] is False
    assert bash_failure["error"].startswith("Exit code 3") and "oops" in bash_failure["error"]


def test_scenario_turns_by_match_then_in_order(sandbox):
    sandbox.scenario({"turns": [
        {"match": "deploy", "text": "deploying"},
        {"match_regex": "^fix (\\w+)$", "text": "fixed it"},
        {"text": "first in order"},
        {"text": "second in order"},
    ], "fallback": {"text": "nothing for {prompt}"}})
    replies = [sandbox.run("-p", p).stdout.strip() for p in ("please deploy", "fix bug", "hello")]
    assert replies == ["deploying", "fixed it", "first in order"]
