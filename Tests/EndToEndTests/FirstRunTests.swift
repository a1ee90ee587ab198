import Foundation
import Testing

/// A new user's first task against an agent that behaves like the real `claude` at start-up: the
/// API-key screen, screens nobody foresaw, an agent that dies at once — never a silent hang.
@Suite("The agent's first run", .serialized)
struct FirstRunTests {
    static let key = "sk-ant-api03-" + String(repeating: "Zq7", count: 20) + "KEYEND0123456789ABCD"

    /// Every file under `folder` whose bytes contain `needle`.
    static func files(under folder: String, containing needle: String) -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: folder) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            let path = folder + "/" + name
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let data = fm.contents(atPath: path) else { continue }
            if data.range(of: Data(needle.utf8)) != nil { found.append(path) }
        }
        return found
    }

    @Test func aTaskWithAnAPIKeyRunsUnattendedAndTheKeyIsNowhereAtRest() async throws {
        var setup = AgentEnv(scenario: scenario([["text": "All set.", "exit_code": 0]]))
        setup.env.extraEnvironment["ANTHROPIC_API_KEY"] = Self.key
        let a = setup
        defer { a.cleanUp() }
        let started = try await a.run(["new", "Hello", "--run"])
        #expect(started.status == 0, "\(started.stderr)")
        // While the agent runs, its command line never holds the key.
        let ps = try await runCommand(["ps", "-eo", "args"])
        #expect(!ps.stdout.contains(Self.key))
        try await a.waitForStatus(1, "done")
        #expect(try await a.eventNames(1).contains("Stop"), "the API-key screen was answered before any hook")
        // ~/.claude.json holds the key's last 20 characters as approved, nothing more of it.
        let state = try String(contentsOfFile: a.home + "/.claude.json", encoding: .utf8)
        #expect(state.contains("\"approved\":[\"\(Self.key.suffix(20))\"]") || state.contains(String(Self.key.suffix(20))))
        #expect(!state.contains(String(Self.key.suffix(21))))
        // The key is on no disk of task's (database, WAL, hook log, pane and env files) and in no output.
        #expect(Self.files(under: a.env.home, containing: Self.key).isEmpty)
        #expect(Self.files(under: a.env.home, containing: String(Self.key.suffix(20))).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: a.env.home + "/run/tasks/1/env.sh"), "credentials removed once the agent has them")
        let show = try await a.run(["show", "1"]), logs = try await a.run(["logs", "1"]), events = try await a.run(["events", "1", "--json"])
        for out in [started.stdout, started.stderr, show.stdout, logs.stdout, events.stdout] { #expect(!out.contains(Self.key)) }
    }

    @Test func aRejectedKeyIsRefusedBeforeAnAgentStarts() async throws {
        var setup = AgentEnv(scenario: scenario([["text": "x"]]))
        setup.env.extraEnvironment["ANTHROPIC_API_KEY"] = Self.key
        let a = setup
        defer { a.cleanUp() }
        let state = #"{"customApiKeyResponses":{"approved":[],"rejected":["\#(Self.key.suffix(20))"]},"theme":"dark"}"#
        try Data(state.utf8).write(to: URL(fileURLWithPath: a.home + "/.claude.json"))
        #expect(try await a.run(["new", "Hello"]).status == 0)
        let r = try await a.run(["run", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("customApiKeyResponses.rejected") && r.stderr.contains("remove that entry"), "\(r.stderr)")
        #expect(!r.stderr.contains(Self.key) && !r.stderr.contains(String(Self.key.suffix(20))))
        #expect(try await a.status(1) == "backlog")
        #expect(try String(contentsOfFile: a.home + "/.claude.json", encoding: .utf8) == state, "left as it was")
        let doctor = try await a.run(["doctor"])
        #expect(doctor.status == 1 && doctor.stdout.contains("✗ api key"), "\(doctor.stdout)")
    }

    @Test func anUnforeseenStartupScreenBlocksTheTaskQuotingItAndKeysLetItThrough() async throws {
        var setup = AgentEnv(scenario: scenario([["text": "Through.", "exit_code": 0]]))
        setup.env.extraEnvironment["FAKE_CLAUDE_EXTRA_SCREEN"] =
            "New MCP server found in .mcp.json: github\n\n❯ 1. Use this and all future MCP servers in this project\n  2. Continue without using MCP servers\n\nEnter to confirm · Esc to reject"
        let a = setup
        defer { a.cleanUp() }
        #expect(try await a.run(["config", "set", "start_timeout", "2"]).status == 0)
        let began = Date()
        let r = try await a.run(["new", "Held", "--run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Date().timeIntervalSince(began) < 2 * 2 + 3, "said within two start_timeouts (a blank screen gets a second) plus the launch")
        #expect(r.stdout.contains("#1 ⏸ agent waiting at start-up: New MCP server found in .mcp.json: github"), "\(r.stdout)")
        let task = try await a.task(1)
        #expect(task["status"] as? String == "blocked")
        #expect((task["status_detail"] as? String)?.hasPrefix("agent waiting at start-up: New MCP server found") == true)
        #expect(try await a.run(["list"]).stdout.contains("(start-up) Held"))
        #expect(try await a.run(["keys", "1", "Enter"]).status == 0)
        try await a.waitForStatus(1, "done")
        #expect(try await a.eventNames(1).first == "SessionStart")
    }

    @Test func anAgentSlowToDrawIsNotTakenForABlankScreen() async throws {
        var setup = AgentEnv(scenario: scenario([["text": "Through.", "exit_code": 0]]))
        // Blank for certain at the first timeout (it sleeps longer than that after it starts), drawn
        // well before the second even on a loaded machine (where starting Python can take a second or two).
        setup.env.extraEnvironment["FAKE_CLAUDE_STARTUP_MS"] = "5500"
        setup.env.extraEnvironment["FAKE_CLAUDE_EXTRA_SCREEN"] = "Release notes: what's new in 2.9\n\nPress Enter to continue"
        let a = setup
        defer { a.cleanUp() }
        #expect(try await a.run(["config", "set", "start_timeout", "5"]).status == 0)
        let r = try await a.run(["new", "Slow", "--run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1 ⏸ agent waiting at start-up: Release notes: what's new in 2.9"), "\(r.stdout)")
        #expect(!r.stdout.contains("(a blank screen)"), "\(r.stdout)")
    }

    @Test func aDyingAgentsLastWordsAreKept() async throws {
        var setup = AgentEnv()
        setup.env.extraEnvironment["FAKE_CLAUDE_DIE"] = "Invalid API key · Please run /login"
        let a = setup
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Doomed", "--run"]).status == 0)
        try await a.waitForStatus(1, "failed")
        let show = try await a.run(["show", "1"])
        #expect(show.stdout.contains("Invalid API key · Please run /login"), "\(show.stdout)")
        #expect(show.stdout.contains("ended before its first hook"), "\(show.stdout)")
        let json = try await a.task(1)
        let logs = try #require(json["logs"] as? [[String: Any]])
        #expect(logs.contains { ($0["kind"] as? String) == "output" && ($0["message"] as? String)?.contains("Invalid API key") == true })
    }

    @Test func doctorPassesOnAGoodSetUpAndNamesTheFixForAMissingAgent() async throws {
        let a = AgentEnv()
        defer { a.cleanUp() }
        let good = try await a.run(["doctor"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        for check in ["✓ agent", "✓ tmux", "✓ git", "✓ data folder", "✓ database", "quick_check ok"] {
            #expect(good.stdout.contains(check), "\(check): \(good.stdout)")
        }
        let json = try await a.run(["doctor", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.allSatisfy { $0["ok"] as? Bool == true } && rows.contains { $0["check"] as? String == "hook log" })
        var missing = a
        missing.env.extraEnvironment["TASK_AGENT"] = "/nonexistent/claude"
        let bad = try await missing.run(["doctor"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("✗ agent") && bad.stdout.contains("fix: install Claude Code"), "\(bad.stdout)")
        #expect(bad.stdout.contains("✓ tmux"), "every other check still runs")
    }

    @Test func badStartTimeoutsAndABrokenStateFileAreRefusedClearly() async throws {
        let a = AgentEnv(scenario: scenario([["text": "x"]]))
        defer { a.cleanUp() }
        for bad in ["-1", "soon", "nan", "99999"] {
            let r = try await a.run(["config", "set", "start_timeout", bad])
            #expect(r.status == 64 && r.stderr.contains("from 0 to 3600"), "\(bad): \(r.stderr)")
        }
        #expect(try await a.run(["config", "set", "start_timeout", "0"]).status == 0)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: a.home + "/.claude.json"))
        #expect(try await a.run(["new", "Hello"]).status == 0)
        let r = try await a.run(["run", "1"])
        #expect(r.status == 1 && r.stderr.contains("is not a JSON object; not touching it"), "\(r.stderr)")
        #expect(try String(contentsOfFile: a.home + "/.claude.json", encoding: .utf8) == "{ not json")
        #expect(try await a.status(1) == "backlog")
        let log = try await a.run(["logs", "1"])
        #expect(log.stdout.contains("could not start"), "\(log.stdout)")
    }

    @Test func helpSizesTheNameColumnToTheLongestName() async throws {
        let a = AgentEnv()
        let help = try await a.run(["help"]).stdout
        let rows = help.split(separator: "\n").dropFirst().filter { $0.hasPrefix("  ") }
        #expect(rows.contains { $0.hasPrefix("  sprite checkpoints  ") }, "\(help)")
        let starts = Set(rows.map { row in row.dropFirst(2).range(of: "  [A-Z]", options: .regularExpression).map { row.distance(from: row.startIndex, to: $0.lowerBound) } ?? -1 })
        #expect(starts.count == 1, "one column for every description: \(help)")
    }
}

/// The same start-up troubles on a sprite of `sprite-sim`.
@Suite("The agent's first run on the sprite", .serialized)
struct SpriteFirstRunTests {
    @Test func aHeldStartIsQuotedADyingAgentIsHeardAndDoctorLooksAtTheSprite() async throws {
        let sim = try await SpriteSimProcess.start()
        var setup = SpriteAgentEnv(sim: sim, scenario: scenario([["text": "Through.", "exit_code": 0]]))
        setup.agent.env.extraEnvironment["FAKE_CLAUDE_EXTRA_SCREEN"] = "What's new in 2.1.241\n\nPress Enter to continue"
        let s = setup
        defer { s.cleanUp() }
        #expect(try await s.run(["config", "set", "start_timeout", "2"]).status == 0)
        let r = try await s.run(["new", "Held", "--run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1 ⏸ agent waiting at start-up: What's new in 2.1.241"), "\(r.stdout)")
        #expect(try await s.agent.status(1) == "blocked")
        #expect(try await s.run(["keys", "1", "Enter"]).status == 0)
        try await s.agent.waitForStatus(1, "done", timeout: 30)
        // The API key the task passed was approved there: no key screen held it after the notes.
        #expect(try await s.agent.eventNames(1).contains("Stop"))

        var dying = s
        dying.agent.env.extraEnvironment["FAKE_CLAUDE_DIE"] = "claude: cannot start: Invalid API key · Please run /login"
        dying.agent.env.extraEnvironment["FAKE_CLAUDE_EXTRA_SCREEN"] = nil
        #expect(try await dying.run(["new", "Doomed", "--run"]).status == 0)
        try await dying.agent.waitForStatus(2, "failed", timeout: 30)
        #expect(try await dying.run(["show", "2"]).stdout.contains("Invalid API key · Please run /login"))

        let good = try await s.run(["doctor"])
        #expect(good.status == 0, "\(good.stdout)")
        for check in ["✓ sprites api", "✓ sprite token", "✓ tmux (sprite)", "✓ git (sprite)", "✓ agent (sprite)", "✓ hook (sprite)"] {
            #expect(good.stdout.contains(check), "\(check): \(good.stdout)")
        }
        // A sprite without a working tmux: the check fails with the fix, the others still run.
        let bin = sim.root + "/sprites/task-sandbox/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho 'tmux: command not found' >&2\nexit 127\n".utf8).write(to: URL(fileURLWithPath: bin + "/tmux"))
        #expect(chmod(bin + "/tmux", 0o755) == 0)
        let bad = try await s.run(["doctor"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("✗ tmux (sprite)") && bad.stdout.contains("apt-get install -y tmux"), "\(bad.stdout)")
        #expect(bad.stdout.contains("✓ tmux ") && bad.stdout.contains("✓ git (sprite)"))
        // A wrong token: the API check fails, every local check still runs.
        var wrong = s
        wrong.agent.env.extraEnvironment["SPRITES_TOKEN"] = "not-the-token"
        let refused = try await wrong.run(["doctor"])
        #expect(refused.status == 1 && refused.stdout.contains("✗ sprites api") && refused.stdout.contains("401"), "\(refused.stdout)")
        #expect(refused.stdout.contains("✓ database"))
    }
}
