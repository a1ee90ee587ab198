import Foundation
import Testing

/// The shell in a real terminal (tmux at a fixed size), driven by keys as a person would.
@Suite("Shell in a terminal")
struct TerminalTests {
    func withShell(_ env: TaskEnv, extra: [String: String] = [:], _ body: (Terminal) async throws -> Void) async throws {
        try await withTaskShell(env.environment.merging(extra) { $1 }, body)
    }

    @Test func promptCompletionAndListingIdsWithTitles() async throws {
        let env = TaskEnv()
        try await env.run(["new", "Fix login"])
        try await env.run(["new", "Write docs"])
        try await withShell(env) { t in
            try await t.type("li")
            try await t.press("Tab")
            try await t.waitFor(text: "task> list")
            try await t.press("Enter")
            try await t.waitFor(text: "Write docs")
            try await t.type("show ")
            try await t.press("Tab")
            let screen = try await t.waitFor(text: "2  Write docs  (backlog)")
            #expect(screen.contains("1  Fix login  (backlog)"))
            try await t.submit("2", waitFor: "#2 Write docs")
        }
    }

    @Test func upArrowRecallsACommandFromAPreviousSession() async throws {
        let env = TaskEnv()
        try await withShell(env) { t in
            try await t.submit("new 'remembered across sessions'", waitFor: "1\n")
            try await t.press("C-d")
            try await t.waitFor(text: "EXITED=0")
        }
        try await withShell(env) { t in
            try await t.press("Up")
            try await t.waitFor(text: "task> new 'remembered across sessions'")
        }
        let h = try await env.run(["history", "--search", "remembered"])
        #expect(h.stdout.contains("new 'remembered across sessions'"))
    }

    @Test func ctrlCClearsTheLineAndCtrlDExitsZero() async throws {
        let env = TaskEnv()
        try await withShell(env) { t in
            try await t.type("new 'half typed")
            try await t.press("C-c")
            try await t.waitFor(text: "^C\ntask>")
            let screen = try await t.submit("list", waitFor: "no tasks")
            #expect(screen.contains("task> list\n"), "the dropped text must not be part of the next line")
            try await t.press("C-d")
            try await t.waitFor(text: "EXITED=0")
        }
        #expect(try await env.run(["list", "--json"]).stdout == "[]\n")
    }

    @Test func nonASCIIInputWorks() async throws {
        let env = TaskEnv()
        try await withShell(env) { t in
            try await t.submit("new 'añadir café ✓ 日本'", waitFor: "1\n")
        }
        #expect(try await env.run(["show", "1", "--json"]).stdout.contains("añadir café ✓ 日本"))
    }

    @Test func backgroundLinesAppearAboveAHalfTypedLineThatStillSubmits() async throws {
        let env = TaskEnv()
        try await withShell(env, extra: ["TASK_DEBUG_TICKER": "300:4"]) { t in
            try await t.type("new 'typed while")
            let screen = try await t.waitFor(text: "tick 4", timeout: 10)
            let lines = screen.split(separator: "\n").map(String.init)
            let prompt = try #require(lines.lastIndex { $0.hasPrefix("task> ") })
            #expect(lines[prompt] == "task> new 'typed while")
            let ticks = lines.indices.filter { lines[$0].hasPrefix("tick ") }
            #expect(ticks.count == 4)
            #expect(ticks.allSatisfy { $0 < prompt }, "ticks must be above the prompt")
            try await t.submit(" ticking'", waitFor: "task> new 'typed while ticking'\n1\n")
        }
        let json = try await env.run(["show", "1", "--json"]).stdout
        #expect(json.contains("\"title\":\"typed while ticking\""))
    }

    @Test func quitAndTypoInTheShell() async throws {
        let env = TaskEnv()
        try await withShell(env) { t in
            try await t.submit("shwo 1", waitFor: "did you mean 'show'?")
            try await t.submit("quit", waitFor: "EXITED=0")
        }
        let h = try await env.run(["history"]).stdout
        #expect(h.contains("64 shwo 1"))
    }
}

/// follow and attach in a real terminal, with the stand-in agent.
@Suite("Talking to an agent in a terminal", .serialized)
struct AgentTerminalTests {
    func withAgentShell(_ a: AgentEnv, _ body: (Terminal) async throws -> Void) async throws {
        try await withTaskShell(a.env.environment, width: 120, height: 40, body)
    }

    @Test func followSendsTypedLinesWhileEventsStreamIn() async throws {
        let a = AgentEnv(scenario: scenario([["text": "ready"]]))
        defer { a.cleanUp() }
        try await a.run(["new", "Pair"])
        try await withAgentShell(a) { t in
            try await t.submit("run 1", waitFor: "waiting for input")
            try await t.submit("follow 1", waitFor: "task#1>")
            try await t.submit("please add tests", waitFor: "#1 ❯ please add tests")
            try await t.submit(".detach", waitFor: "back at task>")
        }
        #expect(try await a.status(1) == "blocked")
        try await a.run(["done", "1"])
    }

    @Test func attachThenDetachLeavesTheTaskRunning() async throws {
        let a = AgentEnv(scenario: scenario([["text": "ready"]]))
        defer { a.cleanUp() }
        try await a.run(["new", "Look"])
        try await withAgentShell(a) { t in
            try await t.submit("run 1", waitFor: "waiting for input")
            try await t.submit("attach 1", waitFor: "? for shortcuts")
            try await t.press("C-b", "d")
            // Our own summary, not tmux's "[detached (from session …)]".
            let screen = try await t.waitFor(text: "events while attached")
            #expect(screen.contains("now blocked"))
            try await t.type("list")
            try await t.press("Enter")
            try await t.waitFor("the list row of #1, blocked") { screen in
                screen.split(separator: "\n").contains { $0.hasPrefix("#1 ") && $0.contains("blocked") && $0.hasSuffix("Look") }
            }
        }
        try await a.run(["done", "1"])
    }
}

/// Opens the shell (with the variables `unset` removed: IS_SANDBOX by default) in a fresh tmux
/// server with `environment`, waits for the prompt, runs `body`, and closes the server whatever happens.
func withTaskShell(
    _ environment: [String: String], width: Int = 100, height: Int = 24, unset: [String] = ["IS_SANDBOX"],
    _ body: (Terminal) async throws -> Void
) async throws {
    var e = environment
    e["TERM"] = "xterm-256color"
    e["LANG"] = "C.UTF-8"
    let command = (["env"] + unset.flatMap { ["-u", $0] } + [taskBinary]).map(shellQuote).joined(separator: " ")
    let t = try await Terminal.open(command: command, environment: e, width: width, height: height)
    do {
        try await t.waitFor(text: "task>")
        try await body(t)
    } catch {
        await t.close()
        throw error
    }
    await t.close()
}

/// The following commands end with Ctrl-C in a real terminal, back at the prompt.
@Suite("Following in a terminal", .serialized)
struct FollowTerminalTests {
    @Test func eventsAndLogsFollowEndWithCtrlC() async throws {
        let a = AgentEnv(scenario: scenario([["text": "Which branch?"], ["text": "noted"]]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Chat", "--run"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        try await withTaskShell(a.env) { t in
            try await t.submit("events 1 --follow", waitFor: "Stop")
            // New events appear while it follows.
            #expect(try await a.run(["send", "1", "main please"]).status == 0)
            try await t.waitFor(text: "main please")
            try await t.press("C-c")
            try await t.waitFor("the prompt after Ctrl-C") { $0.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })?.hasPrefix("task>") == true }
            try await t.submit("logs 1 --follow", waitFor: "status: ")
            #expect(try await a.run(["done", "1"]).status == 0)
            try await t.waitFor(text: "closed by user")
            try await t.press("C-c")
            try await t.waitFor("the prompt after Ctrl-C") { $0.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })?.hasPrefix("task>") == true }
            try await t.submit("list --all", waitFor: "Chat")
        }
    }
}
