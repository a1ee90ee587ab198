import Foundation
import Testing

/// Tasks run end to end in the local sandbox: real tmux, real git, the stand-in agent.
@Suite("Running tasks", .serialized)
struct RunTests {
    @Test func aTaskRunsEndToEndInAGitWorktree() async throws {
        let turn: [String: Any] = [
            "tools": [
                ["tool_name": "Bash", "tool_input": ["command": "echo hello"], "effect": "real", "needs_permission": false],
                ["tool_name": "Write", "tool_input": ["file_path": "notes.txt", "content": "from the agent\n"], "effect": "real", "needs_permission": false],
            ],
            "text": "Wrote notes.txt", "exit_code": 0,
        ]
        let a = AgentEnv(scenario: scenario([turn]))
        defer { a.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await a.run(["project", "add", "web", repo]).status == 0)
        let started = try await a.run(["new", "Add notes", "--prompt", "write the notes", "--project", "web", "--run"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.hasPrefix("1\n#1 started in "))
        try await a.waitForStatus(1, "done")
        let names = try await a.eventNames(1)
        #expect(names == [
            "SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PreToolUse", "PostToolUse", "Stop",
            "SessionEnd", "AgentExit",
        ])
        let tools = try await a.events(1).compactMap { $0["event"] as? String == "PreToolUse" ? $0["tool"] as? String : nil }
        #expect(tools == ["Bash", "Write"])
        let task = try await a.task(1)
        let worktree = try #require(task["worktree"] as? String)
        #expect(task["branch"] as? String == "task/1-add-notes")
        #expect(task["exit_code"] as? Int == 0)
        #expect(try String(contentsOfFile: worktree + "/notes.txt", encoding: .utf8) == "from the agent\n")
        #expect(try await runCommand(["git", "-C", repo, "rev-parse", "--verify", "task/1-add-notes"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: repo + "/notes.txt"), "the edit belongs in the worktree only")
        let logs = try await a.run(["logs", "1"]).stdout
        #expect(logs.contains("processing → blocked") && logs.contains("blocked → done"))
        let json = try await a.events(1)
        #expect(json.allSatisfy { $0["raw"] is [String: Any] && $0["appended_at"] is String && $0["stored_at"] is String })

        // The conversation, from the transcript the agent reported.
        let transcript = try await a.run(["transcript", "1"])
        #expect(transcript.status == 0, "\(transcript.stderr)")
        let lines = transcript.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "› write the notes", "\(transcript.stdout)")
        #expect(lines.contains("  ▸ Bash  echo hello") && lines.contains { $0.hasPrefix("  ▸ Write  ") && $0.hasSuffix("/notes.txt") })
        #expect(lines.contains { $0.hasPrefix("  ↳ ") }, "tool results")
        #expect(lines.contains("● Wrote notes.txt"))
        let raw = try await a.run(["transcript", "1", "--json"]).stdout.split(separator: "\n")
        #expect(!raw.isEmpty && raw.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
        #expect(try await a.run(["new", "Never ran"]).status == 0)
        let none = try await a.run(["transcript", "2"])
        #expect(none.status == 1 && none.stderr.contains("#2 has no transcript yet"))
    }

    @Test func sendIsConfirmedByUserPromptSubmit() async throws {
        let a = AgentEnv(scenario: scenario([["text": "hi"]]))
        defer { a.cleanUp() }
        try await a.run(["new", "Chat", "--run"])
        try await a.waitForStatus(1, "blocked")
        let text = #"reply; with '$(touch pwned)' and "quotes";"#
        let sent = try await a.run(["send", "1", text])
        #expect(sent.status == 0 && sent.stdout == "#1 ← sent\n", "\(sent.stderr)")
        let multi = try await a.run(["send", "1", "line one\nline two"])
        #expect(multi.status == 0, "\(multi.stderr)")
        let prompts = try await a.events(1).compactMap { e -> String? in
            guard e["event"] as? String == "UserPromptSubmit", let raw = e["raw"] as? [String: Any],
                  let data = raw["data"] as? [String: Any] else { return nil }
            return data["prompt"] as? String
        }
        #expect(prompts.suffix(2) == [text, "line one\nline two"])
        let task = try await a.task(1)
        let workdir = try #require(task["worktree"] as? String)
        #expect(!FileManager.default.fileExists(atPath: workdir + "/pwned"))
        #expect(try await a.run(["done", "1"]).status == 0)
        #expect(try await a.status(1) == "done")
    }

    /// `delete --force` of a task whose agent runs ends the agent (its window closes) before the task
    /// goes, and says that its branch and worktree are kept; without --force it is refused.
    @Test func deleteForceEndsTheRunningAgentAndKeepsTheBranch() async throws {
        let a = AgentEnv(scenario: scenario([["text": "Which branch?"]]))
        defer { a.cleanUp() }
        let repo = try await gitRepository()
        #expect(try await a.run(["project", "add", "web", repo]).status == 0)
        #expect(try await a.run(["new", "Busy", "--project", "web", "--run"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        let worktree = try #require(try await a.task(1)["worktree"] as? String)
        let refused = try await a.run(["delete", "1"])
        #expect(refused.status == 1 && refused.stderr.contains("#1 is blocked; stop it first or use delete --force"), "\(refused.stderr)")
        let windows = { try await runCommand(["tmux", "-L", a.socket, "list-windows", "-a", "-F", "#{window_name}"]).stdout }
        #expect(try await windows().contains("task-1"))

        let deleted = try await a.run(["delete", "1", "--force"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout == "#1 deleted\n  kept its branch task/1-busy and its folder \(worktree)\n", "\(deleted.stdout)")
        #expect(try await !windows().contains("task-1"), "the agent's window is closed")
        #expect(try await a.run(["show", "1"]).status != 0)
        #expect(try await runCommand(["git", "-C", repo, "rev-parse", "--verify", "-q", "refs/heads/task/1-busy"]).status == 0)
    }

    /// A restart of this machine ends every agent and the tmux server without an exit record. The
    /// next command finds the windows gone: those tasks fail, saying why, and free their slots for
    /// the queue.
    @Test func agentsEndedWithTheirTmuxServerFailAndFreeTheirSlots() async throws {
        let a = AgentEnv(scenario: scenario([["text": "Which branch?"]]))
        defer { a.cleanUp() }
        #expect(try await a.run(["config", "set", "max_running", "1"]).status == 0)
        #expect(try await a.run(["new", "First", "--run"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        #expect(try await a.run(["new", "Second", "--run"]).stdout.contains("queued"))

        // As a restart would: the agent and its pane script killed outright, then the server.
        let panes = try await runCommand(["tmux", "-L", a.socket, "list-panes", "-a", "-F", "#{window_name} #{pane_pid}"]).stdout
        let pid = try #require(panes.split(separator: "\n").first { $0.hasPrefix("task-1 ") }?.split(separator: " ").last)
        #expect(try await runCommand(["kill", "-KILL", "--", "-" + pid]).status == 0)
        _ = try await runCommand(["tmux", "-L", a.socket, "kill-server"])

        #expect(try await a.run(["list"]).status == 0)
        let first = try await a.task(1)
        #expect(first["status"] as? String == "failed")
        #expect((first["status_detail"] as? String) == "the agent's window is gone without an exit record "
            + "(a restart of this machine, or tmux kill-server on its server, ends them all)", "\(first)")
        #expect(try await !a.eventNames(1).contains("AgentExit"), "no exit record came: the window was found gone")
        try await a.waitForStatus(2, "blocked")
    }

    @Test func stopCancelsAndRetryResumesTheSession() async throws {
        let a = AgentEnv(scenario: scenario([["text": "first turn"]]))
        defer { a.cleanUp() }
        try await a.run(["new", "Long job", "--run"])
        try await a.waitForStatus(1, "blocked")
        let stop = try await a.run(["stop", "1"])
        #expect(stop.status == 0 && stop.stdout == "#1 cancelled\n")
        // The agent's exit record arrives and must not change it.
        try await waitUntil("the agent's exit record is stored") { try await a.eventNames(1).last == "AgentExit" }
        #expect(try await a.status(1) == "cancelled")
        let retry = try await a.run(["retry", "1", "--feedback", "try again"])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("resuming its session"))
        try await a.waitForStatus(1, "blocked")
        let starts = try await a.events(1).filter { $0["event"] as? String == "SessionStart" }
        #expect(starts.count == 2)
        let second = (starts.last?["raw"] as? [String: Any])?["data"] as? [String: Any]
        #expect(second?["source"] as? String == "resume")
        let logs = try await a.run(["logs", "1"]).stdout
        #expect(logs.contains("--- Continuation ---") && logs.contains("Feedback: try again"))
        #expect(try await a.run(["done", "1"]).status == 0)
    }

    @Test func theQueueHoldsTasksBeyondMaxRunning() async throws {
        // Long enough a turn that the first agent still runs when the others are queued on a loaded machine.
        let a = AgentEnv(scenario: scenario([["text": "quick", "think_ms": 2500, "exit_code": 0]]))
        defer { a.cleanUp() }
        try await a.run(["config", "set", "max_running", "1"])
        for t in ["one", "two", "three"] { try await a.run(["new", t]) }
        #expect(try await a.run(["run", "1"]).stdout.contains("started"))
        #expect(try await a.run(["run", "2"]).stdout.contains("queued"))
        #expect(try await a.run(["run", "3"]).stdout.contains("queued"))
        let q2 = try await a.status(2), q3 = try await a.status(3)
        #expect(q2 == "queued" && q3 == "queued")
        try await a.waitForStatus(3, "done", timeout: 40)
        for id in 1...3 { #expect(try await a.status(id) == "done") }
        // Never more than one agent at once: each started after the one before ended.
        let t1 = try await a.task(1), t2 = try await a.task(2), t3 = try await a.task(3)
        let f1 = try #require(t1["finished_at"] as? String), s2 = try #require(t2["started_at"] as? String)
        let f2 = try #require(t2["finished_at"] as? String), s3 = try #require(t3["started_at"] as? String)
        #expect(f1 <= s2 && f2 <= s3)
    }

    @Test func missingAgentIsAClearError() async throws {
        var a = AgentEnv()
        a.env.extraEnvironment["TASK_AGENT"] = "no-such-agent-xyz"
        try await a.run(["new", "x"])
        let r = try await a.run(["run", "1"])
        #expect(r.status == 1 && r.stderr.contains("the agent command 'no-such-agent-xyz' was not found"))
        #expect(try await a.status(1) == "backlog")
    }

    @Test func dangerousTextArrivesVerbatimAndRunsNothing() async throws {
        let a = AgentEnv(scenario: scenario([["text": "ok"]]))
        defer { a.cleanUp() }
        let title = #"Fix '"$(touch pwned1)"; `touch pwned2` now"#
        let prompt = "first line\n'\"$(touch pwned3)`;\\`touch pwned4\\``\nlast line"
        let created = try await a.run(["new", title, "--prompt", prompt, "--run"])
        #expect(created.status == 0, "\(created.stderr)")
        try await a.waitForStatus(1, "blocked")
        let submitted = try await a.events(1).first { $0["event"] as? String == "UserPromptSubmit" }
        let data = (submitted?["raw"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["prompt"] as? String == prompt)
        #expect(try await a.task(1)["title"] as? String == title)
        let workdir = try #require(try await a.task(1)["worktree"] as? String)
        for n in 1...4 {
            #expect(!FileManager.default.fileExists(atPath: workdir + "/pwned\(n)"))
            #expect(!FileManager.default.fileExists(atPath: a.env.home + "/pwned\(n)"))
        }
        try await a.run(["stop", "1"])
    }
}
