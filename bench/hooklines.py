"""Realistic hook-log lines for the benchmarks (shared by ingest.py and latency.py).

Each line is what the hook script appends to `$TASK_HOME/run/hooks.log`:
`{"task":<id>,"event":"<EventName>","ts":<epoch seconds>,"data":{<hook stdin JSON>}}`,
with the fields Claude Code sends on stdin (spec/claude-code.md): session_id, transcript_path,
cwd, permission_mode, hook_event_name, and per event tool_name/tool_input/tool_response, prompt,
message/notification_type, stop_hook_active/last_assistant_message.
"""
import json
import random
import time

SESSION = "3f2c9a1e-7b4d-4e2a-9c1f-8d6b5a4e3c21"
CWD = "/home/dev/src/web"
TRANSCRIPT = "/home/dev/.claude/projects/-home-dev-src-web/" + SESSION + ".jsonl"

COMMANDS = [
    "npm test -- --runInBand src/auth/login.test.ts",
    "git status --short && git diff --stat",
    "rg -n \"redirectTo\" src/ | head -50",
    "npx tsc --noEmit -p tsconfig.json",
    "ls -la src/auth/ && cat package.json | jq .scripts",
    "python3 -m pytest -q tests/test_session.py -k 'redirect and not slow'",
]
FILES = ["src/auth/login.ts", "src/auth/session.ts", "src/routes/index.tsx", "README.md", "tests/test_session.py"]
PROMPTS = [
    "The login page loops back to itself after a successful sign-in; find out why and fix it.",
    "Please also add a regression test for the redirect, and keep the existing tests green.",
    "Looks good. Can you tidy up the commit and explain the root cause in two sentences?",
]


def _common(event):
    return {"session_id": SESSION, "transcript_path": TRANSCRIPT, "cwd": CWD,
            "permission_mode": "default", "hook_event_name": event}


def _tool_use_id(rng):
    return "toolu_01" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(22))


def pre_bash(command, rng):
    d = _common("PreToolUse")
    d.update(tool_name="Bash", tool_input={"command": command, "description": "Run the check"},
             tool_use_id=_tool_use_id(rng))
    return "PreToolUse", d


def event_data(rng):
    """One (event, data) pair from a realistic mix of hook events."""
    r = rng.random()
    if r < 0.30:
        return pre_bash(rng.choice(COMMANDS), rng)
    if r < 0.55:
        d = _common("PostToolUse")
        out = "\n".join(f"PASS src/auth/case{rng.randrange(100)}.test.ts ({rng.randrange(900)} ms)" for _ in range(2))
        d.update(tool_name="Bash", tool_input={"command": rng.choice(COMMANDS)},
                 tool_response={"stdout": out, "stderr": ""},
                 tool_use_id=_tool_use_id(rng))
        return "PostToolUse", d
    if r < 0.70:
        d = _common("PreToolUse")
        d.update(tool_name="Edit", tool_input={
            "file_path": CWD + "/" + rng.choice(FILES),
            "old_string": "if (session.user) return redirect(next)",
            "new_string": "if (session.user && next !== '/login') return redirect(next ?? '/')",
            }, tool_use_id=_tool_use_id(rng))
        return "PreToolUse", d
    if r < 0.82:
        d = _common("PostToolUse")
        path = CWD + "/" + rng.choice(FILES)
        d.update(tool_name="Edit", tool_input={"file_path": path, "old_string": "return redirect(next)",
                                               "new_string": "return redirect(next ?? '/')"},
                 tool_response={"filePath": path}, tool_use_id=_tool_use_id(rng))
        return "PostToolUse", d
    if r < 0.90:
        d = _common("UserPromptSubmit")
        d.update(prompt=rng.choice(PROMPTS))
        return "UserPromptSubmit", d
    if r < 0.96:
        d = _common("Stop")
        d.update(stop_hook_active=False,
                 last_assistant_message="I fixed the redirect loop: the session check now ignores /login as a target.")
        return "Stop", d
    d = _common("Notification")
    d.update(message="Claude needs your permission to use Bash", notification_type="permission_prompt")
    return "Notification", d


def line(task, event, data, ts=None):
    """One hook-log line, newline included, as bytes."""
    return (json.dumps({"task": task, "event": event, "ts": round(ts if ts is not None else time.time(), 6),
                        "data": data}, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def generate(count, task=1, seed=1):
    """`count` lines for `task` as one bytes object (deterministic for a seed)."""
    rng = random.Random(seed)
    ts = 1_764_000_000.0
    out = []
    for _ in range(count):
        ts += rng.random() * 0.5
        event, data = event_data(rng)
        out.append(line(task, event, data, ts))
    return b"".join(out)
