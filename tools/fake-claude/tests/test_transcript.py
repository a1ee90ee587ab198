"""Transcripts in the split-message shape (spec §8 "Usage, counted once"): one API response with
several content blocks is several `assistant` lines sharing message.id, requestId, model and usage.
The token numbers are the deterministic ones README.md documents."""

import json
import uuid
from pathlib import Path

USAGE_KEYS = ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation",
              "output_tokens", "service_tier"]
COUNTS = ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
README_EXAMPLE = {"turns": [{"tools": [{"tool_name": "Bash", "tool_input": {"command": "make test"},
                                        "needs_permission": False}],
                             "text": "All tests pass."}]}


def run(sandbox, scenario, prompt, *args, expect=0):
    sandbox.scenario(scenario)
    done = sandbox.run("-p", "--session-id", str(uuid.uuid4()), "--settings", str(sandbox.settings_file),
                       *args, "--", prompt)
    assert done.returncode == expect, done.stderr
    return [json.loads(line) for line in Path(sandbox.events()[0]["transcript_path"]).read_text().splitlines()]


def assistant_lines(records):
    return [r for r in records if r["type"] == "assistant"]


def messages(records):
    """API responses, de-duplicated on message.id + requestId as a ledger does: [(key, [lines])]."""
    grouped = {}
    for record in assistant_lines(records):
        grouped.setdefault((record["message"]["id"], record.get("requestId")), []).append(record)
    return list(grouped.items())


def totals(records):
    sums = dict.fromkeys(COUNTS, 0)
    for _, lines in messages(records):
        for key in COUNTS:
            sums[key] += lines[0]["message"]["usage"][key]
    return sums


def block_types(lines):
    return [line["message"]["content"][0]["type"] for line in lines]


def test_a_tool_step_is_a_preamble_line_and_a_tool_use_line_of_one_response(sandbox):
    records = run(sandbox, README_EXAMPLE, "run the tests")
    grouped = messages(records)
    assert [block_types(lines) for _, lines in grouped] == [["text", "tool_use"], ["text"]]
    for (message_id, request_id), lines in grouped:
        assert message_id.startswith("msg_") and request_id.startswith("req_")
        assert all(len(line["message"]["content"]) == 1 for line in lines)  # one block per line
        first = lines[0]["message"]
        for line in lines[1:]:  # everything but the block and the stop_reason is repeated
            assert line["message"]["usage"] == first["usage"] and line["message"]["model"] == first["model"]
        assert list(first["usage"]) == USAGE_KEYS and first["usage"]["service_tier"] == "standard"
        assert sum(first["usage"]["cache_creation"].values()) == first["usage"]["cache_creation_input_tokens"]
        assert first["model"] == "claude-sonnet-4-5"
    step = grouped[0][1]
    assert step[0]["message"]["content"][0]["text"] == "I'll run `make test`."
    assert [line["message"]["stop_reason"] for line in step] == [None, "tool_use"]
    tool_use = step[1]["message"]["content"][0]
    assert tool_use["name"] == "Bash" and tool_use["id"] == sandbox.wait_for_event("PreToolUse")["tool_use_id"]
    assert grouped[1][1][0]["message"]["stop_reason"] == "end_turn"
    assert len({line["uuid"] for line in assistant_lines(records)}) == 3  # lines are records of their own


def test_the_readme_example_totals(sandbox):
    """README.md, "Usage": 2 messages on 3 lines; these totals, and more when summed per line."""
    records = run(sandbox, README_EXAMPLE, "run the tests")
    usages = [lines[0]["message"]["usage"] for _, lines in messages(records)]
    assert [(u["input_tokens"], u["cache_creation_input_tokens"], u["cache_read_input_tokens"], u["output_tokens"])
            for u in usages] == [(4, 44, 12000, 36), (4, 40, 12150, 4)]
    assert totals(records) == {"input_tokens": 8, "output_tokens": 40, "cache_creation_input_tokens": 84,
                               "cache_read_input_tokens": 24150}
    per_line = {key: sum(r["message"]["usage"][key] for r in assistant_lines(records)) for key in COUNTS}
    assert per_line == {"input_tokens": 12, "output_tokens": 76, "cache_creation_input_tokens": 128,
                        "cache_read_input_tokens": 36150}


def test_thinking_blocks_overrides_and_no_preamble(sandbox):
    scenario = {"turns": [{
        "model": "claude-opus-4-1",
        "thinking": "The user wants a file.",
        "usage": {"input_tokens": 1000, "output_tokens": 2000, "cache_read_input_tokens": 0},
        "tools": [
            {"tool_name": "Write", "tool_input": {"file_path": "a.txt", "content": "a"}, "needs_permission": False,
             "preamble": "", "usage": {"cache_creation_input_tokens": 7}},
            {"tool_name": "Read", "tool_input": {"file_path": "a.txt"}, "thinking": "Check it.",
             "preamble": "Let me look.", "model": "claude-haiku-4-5",
             "usage": {"cache_creation": {"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokens": 2},
                       "cache_creation_input_tokens": 3}},
        ],
        "text": "Wrote and read a.txt.",
    }]}
    records = run(sandbox, scenario, "make a")
    grouped = [lines for _, lines in messages(records)]
    assert [block_types(lines) for lines in grouped] == [["tool_use"], ["thinking", "text", "tool_use"],
                                                         ["thinking", "text"]]
    write, read, answer = (lines[0]["message"] for lines in grouped)
    assert [write["model"], read["model"], answer["model"]] == ["claude-opus-4-1", "claude-haiku-4-5",
                                                                 "claude-opus-4-1"]
    assert write["usage"]["cache_creation_input_tokens"] == 7
    assert write["usage"]["cache_creation"] == {"ephemeral_5m_input_tokens": 7, "ephemeral_1h_input_tokens": 0}
    assert write["usage"]["output_tokens"] == 30 and write["usage"]["cache_read_input_tokens"] == 12000
    assert read["usage"]["cache_creation"] == {"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokens": 2}
    assert read["usage"]["cache_read_input_tokens"] == 12150
    assert read["usage"]["output_tokens"] == 30 + 6  # "Check it." + "Let me look." = 21 characters
    assert answer["usage"]["input_tokens"] == 1000 and answer["usage"]["output_tokens"] == 2000
    assert answer["usage"]["cache_read_input_tokens"] == 0
    assert answer["usage"]["cache_creation_input_tokens"] == 40  # not overridden: computed
    thinking = grouped[2][0]["message"]["content"][0]
    assert thinking["thinking"] == "The user wants a file." and thinking["signature"]


def test_every_turn_of_a_session_counts_from_its_own_first_call(sandbox):
    session_id = str(uuid.uuid4())
    sandbox.scenario({"turns": [{"text": "one"}, {"text": "two"}]})
    for args in (["--session-id", session_id, "--", "hi"], ["--resume", session_id, "--", "hello"]):
        assert sandbox.run("-p", *args).returncode == 0
    path = next((sandbox.home / ".claude" / "projects").glob(f"*/{session_id}.jsonl"))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    usages = [lines[0]["message"]["usage"] for _, lines in messages(records)]
    assert [(u["cache_creation_input_tokens"], u["cache_read_input_tokens"], u["output_tokens"]) for u in usages] \
        == [(41, 12000, 1), (42, 12000, 1)]  # 40 + ⌈len(prompt)/4⌉; ⌈3/4⌉ output tokens


def test_an_api_error_is_a_synthetic_record_with_zero_usage(sandbox):
    scenario = {"turns": [{"tools": [{"tool_name": "Read", "tool_input": {"file_path": "x"}}],
                           "error": "overloaded"}]}
    records = run(sandbox, scenario, "hi", expect=1)
    grouped = messages(records)
    assert [block_types(lines) for _, lines in grouped] == [["text", "tool_use"], ["text"]]
    (error_id, request_id), [error] = grouped[1]
    assert request_id is None and "requestId" not in error
    assert error["isApiErrorMessage"] is True and error["message"]["model"] == "<synthetic>"
    assert error["message"]["usage"] == {"input_tokens": 0, "cache_creation_input_tokens": 0,
                                         "cache_read_input_tokens": 0, "cache_creation": {
                                             "ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                                         "output_tokens": 0, "service_tier": "standard"}
    assert totals(records)["output_tokens"] == grouped[0][1][0]["message"]["usage"]["output_tokens"]


def test_bad_usage_in_a_scenario_is_reported(sandbox):
    done = sandbox.run("-p", "hi", FAKE_CLAUDE_SCENARIO='{"turns": [{"usage": {"output_tokens": -1}}]}')
    assert done.returncode == 1
    assert "bad scenario" in done.stderr and "turns[0].usage.output_tokens" in done.stderr
