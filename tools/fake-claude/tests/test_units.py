"""Pure functions of the stand-in: key parsing, argument parsing, path encoding, scenario order."""

import pytest

from conftest import load_claude_module

fc = load_claude_module()


def kinds(keys):
    return [(k.kind, k.text) if k.kind in ("char", "paste") else k.kind for k in keys]


def test_keys_controls_and_arrows():
    keys, rest = fc.parse_keys("a\r\n\x7f\x04\x15\x1b[A\x1bOB\x1b[Z", final=False)
    assert rest == ""
    assert kinds(keys) == [("char", "a"), "enter", "newline", "backspace", "ctrl-d", "ctrl-u", "up", "down",
                           "shift-tab"]


def test_a_lone_escape_waits_for_more_bytes_unless_final():
    assert fc.parse_keys("x\x1b", final=False)[1] == "\x1b"
    keys, rest = fc.parse_keys("\x1b", final=True)
    assert kinds(keys) == ["esc"] and rest == ""
    assert kinds(fc.parse_keys("\x1b\x1b", final=True)[0]) == ["esc", "esc"]


def test_bracketed_paste_is_one_key_with_newlines_normalised():
    keys, rest = fc.parse_keys("\x1b[200~a\r\nb\rc\x1b[201~\r", final=False)
    assert kinds(keys) == [("paste", "a\nb\nc"), "enter"] and rest == ""


def test_an_unfinished_paste_is_held_back():
    keys, rest = fc.parse_keys("x\x1b[200~abc", final=False)
    assert kinds(keys) == [("char", "x")] and rest == "\x1b[200~abc"


def test_multibyte_text_is_kept():
    assert kinds(fc.parse_keys("é❯", final=False)[0]) == [("char", "é"), ("char", "❯")]


def test_project_dir_encoding():
    assert fc.encode_project_dir("/Users/alice/my.repo") == "-Users-alice-my-repo"
    long = fc.encode_project_dir("/" + "a" * 300)
    assert len(long) == 209 and long.startswith("-aaa")


@pytest.mark.parametrize("argv, prompt, allowed", [
    (["--allowedTools", "Read", "Bash", "hello"], None, ["Read", "Bash", "hello"]),
    (["--allowedTools", "Read", "--", "hello"], "hello", ["Read"]),
    (["--allowedTools", "Read", "--model", "opus", "hello"], "hello", ["Read"]),
    (["--allowedTools=Read", "hello"], None, ["Read", "hello"]),
])
def test_variadic_flags(argv, prompt, allowed):
    opts = fc.parse_args(argv)
    assert opts.prompt == prompt and opts.allowed_tools == allowed


def test_value_flags_and_aliases():
    opts = fc.parse_args(["-p", "--session-id=0b8f2f7e-2d2c-4c55-9f5a-2b7e0c6b1d11", "-r", "abc", "--", "-x"])
    assert opts.print_mode and opts.session_id.startswith("0b8f") and opts.resume == "abc" and opts.prompt == "-x"
    assert fc.parse_args(["-r"]).resume == ""
    with pytest.raises(fc.UsageError):
        fc.parse_args(["--settings"])


def test_tool_rule_names():
    assert fc.tool_rule_names(["Bash(git commit:*),Read", "Edit mcp__x__y"]) == {"Bash", "Read", "Edit", "mcp__x__y"}


def test_scenario_prefers_matches_then_takes_unmatched_turns_once_in_order():
    scenario = fc.Scenario({"turns": [{"text": "a"}, {"match": "deploy", "text": "d"}, {"text": "b"}],
                            "fallback": {"text": "f"}})
    replies = [scenario.next_turn(p).text for p in ("x", "deploy now", "y", "deploy", "z")]
    assert replies == ["a", "d", "b", "d", "f"]


def test_scenario_validation():
    with pytest.raises(fc.ScenarioError):
        fc.Scenario({"turns": [{"tools": [{"tool_name": "Bash", "effect": "explode"}]}]})
    with pytest.raises(fc.ScenarioError):
        fc.Scenario({"turns": [{"match_regex": "("}]})
