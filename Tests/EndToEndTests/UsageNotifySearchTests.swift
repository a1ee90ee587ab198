import Foundation
import Testing

/// Usage and cost from the stand-in's transcripts (token numbers by the formula of
/// tools/fake-claude/README.md, "Files"), budgets, notifications and search.
@Suite("Usage, budgets, notifications and search", .serialized)
struct UsageNotifySearchTests {
    /// The README's worked example: prompt `run the tests`, one Bash call, "All tests pass." →
    /// 2 messages on 3 lines: (4, 44, 12000, 36) and (4, 40, 12150, 4).
    static var workedTurn: [String: Any] { [
        "tools": [["tool_name": "Bash", "tool_input": ["command": "make test"], "needs_permission": false]],
        "text": "All tests pass.",
    ] }
    /// A second turn, prompt `go on please` (12 characters) and no tool: k = 0 →
    /// input 4, cache write 40 + ⌈12/4⌉ = 43, cache read 12000, output ⌈len("Went on.")/4⌉ = 2.
    static var secondTurn: [String: Any] { ["text": "Went on."] }

    /// Totals after the worked turn, and after both.
    static let first = (input: 8, output: 40, cacheWrite: 84, cacheRead: 24150, messages: 2)
    static let both = (input: 12, output: 42, cacheWrite: 127, cacheRead: 36150, messages: 3)

    /// claude-sonnet-4-5 at $3 / $15 / $3.75 / $0.30 per million.
    static func sonnetCost(_ t: (input: Int, output: Int, cacheWrite: Int, cacheRead: Int, messages: Int)) -> Double {
        (Double(t.input) * 3 + Double(t.output) * 15 + Double(t.cacheWrite) * 3.75 + Double(t.cacheRead) * 0.30) / 1_000_000
    }

    static func usage(_ run: (_ args: [String]) async throws -> RunResult, _ id: Int) async throws -> [String: Any] {
        let r = try await run(["usage", String(id), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    static func expectTotals(_ u: [String: Any], _ t: (input: Int, output: Int, cacheWrite: Int, cacheRead: Int, messages: Int)) {
        #expect(u["input_tokens"] as? Int == t.input, "\(u)")
        #expect(u["output_tokens"] as? Int == t.output, "\(u)")
        #expect(u["cache_creation_input_tokens"] as? Int == t.cacheWrite, "\(u)")
        #expect(u["cache_read_input_tokens"] as? Int == t.cacheRead, "\(u)")
        #expect(u["messages"] as? Int == t.messages, "\(u)")
        let cost = (u["cost_usd"] as? Double) ?? -1
        #expect(abs(cost - sonnetCost(t)) < 0.000_002, "cost \(cost) vs \(sonnetCost(t))")
    }

    @Test func usageCountsEachMessageOnceAndReadsOnFromTheStoredOffset() async throws {
        let a = AgentEnv(scenario: scenario([Self.workedTurn, Self.secondTurn]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "run the tests"]).status == 0)
        #expect(try await a.run(["run", "1"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        Self.expectTotals(try await Self.usage({ try await a.run($0) }, 1), Self.first)
        let sent = try await a.run(["send", "1", "go on please"])
        #expect(sent.status == 0, "\(sent.stderr)")
        try await waitUntil("the second turn ends") { try await a.run(["events", "1"]).stdout.contains("Went on.") }
        // A line that is not JSON is skipped and counted, never fatal.
        let transcript = try #require(try await a.events(1).compactMap {
            (($0["raw"] as? [String: Any])?["data"] as? [String: Any])?["transcript_path"] as? String
        }.first)
        let handle = try #require(FileHandle(forWritingAtPath: transcript))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("this is not json\n".utf8))
        try handle.close()
        let u = try await Self.usage({ try await a.run($0) }, 1)
        Self.expectTotals(u, Self.both)
        #expect(u["skipped_lines"] as? Int == 1)
        #expect((u["by_model"] as? [[String: Any]])?.first?["model"] as? String == "claude-sonnet-4-5")
        // show has the cost; list --json ends each task with cost_usd.
        let shown = try await a.run(["show", "1"]).stdout
        #expect(shown.contains("cost       $0.01 (3 messages; 12 in, 42 out, 127 cache write, 36150 cache read)"), "\(shown)")
        let list = try await a.run(["list", "--json"]).stdout
        #expect(list.contains(",\"exit_code\":null,\"cost_usd\":0.01"), "\(list)")
        // The table shows it too, before the title.
        let table = try await a.run(["list", "--all"]).stdout
        #expect(table.contains("$0.01 "), "\(table)")
        let all = try await a.run(["usage"])
        #expect(all.stdout.contains("#1     3     12        42        127        36150"), "\(all.stdout)")
        #expect(all.stdout.contains("total  3"), "\(all.stdout)")
        #expect(try await a.run(["usage", "1", "--since", "1h"]).status == 0)
        #expect(try await a.run(["usage", "--since", "yesterday"]).status == 64)
    }

    @Test func aMalformedPricesFileIsReportedWithItsPath() async throws {
        let a = AgentEnv(scenario: scenario([Self.workedTurn]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "run the tests"]).status == 0)
        #expect(try await a.run(["run", "1"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        let file = a.env.home + "/prices.json"
        try FileManager.default.createDirectory(atPath: a.env.home, withIntermediateDirectories: true)
        try Data("{\"claude-sonnet-4-5\": {\"input\": \"three\"".utf8).write(to: URL(fileURLWithPath: file))
        let r = try await a.run(["usage", "1", "--json"])
        #expect(r.status == 0)
        #expect(r.stderr.contains(file) && r.stderr.contains("malformed") && r.stderr.contains("built-in"), "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: file).count == 2, "said once: \(r.stderr)")
        // The built-in prices were used.
        Self.expectTotals((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:], Self.first)
    }

    @Test func aBudgetBlocksTheTaskAndARaisedOneLetsItGoOn() async throws {
        let a = AgentEnv(scenario: scenario([Self.workedTurn, Self.secondTurn]))
        defer { a.cleanUp() }
        // $1 per million tokens of every kind: the first turn costs 24 282 / 10⁶ = $0.024282.
        try FileManager.default.createDirectory(atPath: a.env.home, withIntermediateDirectories: true)
        try Data(#"{"claude-sonnet-4-5": {"input": 1, "output": 1, "cache_write": 1, "cache_read": 1}}"#.utf8)
            .write(to: URL(fileURLWithPath: a.env.home + "/prices.json"))
        #expect(try await a.run(["config", "set", "max_cost_usd", "0.01"]).status == 0)
        #expect(try await a.run(["new", "run the tests"]).status == 0)
        #expect(try await a.run(["run", "1"]).status == 0)
        try await waitUntil("the budget blocks the task") {
            (try await a.task(1)["status_detail"] as? String)?.hasPrefix("budget reached") == true
        }
        let task = try await a.task(1)
        #expect(task["status"] as? String == "blocked")
        #expect(task["status_detail"] as? String == "budget reached ($0.02 of $0.01)", "\(task)")
        #expect(try await a.run(["list"]).stdout.contains("(budget)"))
        // Raised, the task goes on with the next message.
        #expect(try await a.run(["set", "max_cost_usd", "1"]).status == 0)
        let sent = try await a.run(["send", "1", "go on please"])
        #expect(sent.status == 0, "\(sent.stderr)")
        try await waitUntil("the second turn ends") {
            (try await a.task(1)["status_detail"] as? String)?.hasPrefix("waiting for input — \"Went on.\"") == true
        }
        #expect(try await a.status(1) == "blocked")
    }

    @Test func aNotifyCommandRunsOncePerChangeWithTwoShellsOpen() async throws {
        let a = AgentEnv(scenario: scenario([Self.workedTurn, ["text": "Bye.", "exit_code": 0]]))
        defer { a.cleanUp() }
        let out = makeTemporaryFolder() + "/notified"
        let title = "Ship it $(touch \(out).pwned) `id`"
        #expect(try await a.run(["new", title]).status == 0)
        let command = #"printf '%s|%s|%s|%s|%s\n' "$TASK_ID" "$TASK_STATUS" "$TASK_REASON" "$TASK_TITLE" "$TASK_DETAIL" >> ""# + out + "\""
        #expect(try await a.run(["config", "set", "notify_command", command]).status == 0)
        try await withTaskShell(a.env, width: 140, height: 40) { first in
            try await withTaskShell(a.env, width: 140, height: 40) { second in
                try await first.submit("run 1", waitFor: "#1 ⏸ waiting for input", timeout: 30)
                _ = try await second.waitFor(text: "#1 ⏸ waiting for input", timeout: 30)
                // One-shot commands catching up meanwhile store nothing twice and notify nothing.
                for _ in 0..<3 { #expect(try await a.run(["list"]).status == 0) }
                try await waitUntil("the notify command ran") { FileManager.default.fileExists(atPath: out) }
                try await second.submit("send 1 bye", waitFor: "#1 ✓ done", timeout: 30)
                _ = try await first.waitFor(text: "#1 ✓ done", timeout: 30)
                try await waitUntil("the second notification") {
                    ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").count >= 3
                }
                try await Task.sleep(for: .milliseconds(800))
            }
        }
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        // The turns that ended, then the exit: one line each, whichever process stored them.
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first == "1|blocked|finished|\(title)|waiting for input — \"All tests pass.\"", "\(lines)")
        #expect(lines.dropFirst().first == "1|blocked|finished|\(title)|waiting for input — \"Bye.\"", "\(lines)")
        #expect(lines.last?.hasPrefix("1|done|finished|\(title)|") == true, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: out + ".pwned"), "the title was never run")
    }

    @Test func aHangingNotifyCommandIsKilledAndLogged() async throws {
        let a = {
            var a = AgentEnv(scenario: scenario([Self.workedTurn]))
            a.env.extraEnvironment["TASK_NOTIFY_TIMEOUT"] = "1"
            return a
        }()
        defer { a.cleanUp() }
        #expect(try await a.run(["config", "set", "notify_command", "echo going to sleep >&2; sleep 30"]).status == 0)
        #expect(try await a.run(["config", "set", "notify_on", "finished"]).status == 0)
        #expect(try await a.run(["new", "run the tests"]).status == 0)
        #expect(try await a.run(["run", "1"]).status == 0)
        let started = Date()
        try await waitUntil("the hanging command is killed and logged", timeout: 30) {
            try await a.run(["logs", "1"]).stdout.contains("notify_command was killed after 1 s")
        }
        #expect(Date().timeIntervalSince(started) < 20)
        // A failing one is logged with its status and what it said.
        #expect(try await a.run(["config", "set", "notify_command", "echo no route >&2; exit 3"]).status == 0)
        #expect(try await a.run(["send", "1", "again"]).status == 0)
        try await waitUntil("the failure is logged", timeout: 30) {
            try await a.run(["logs", "1"]).stdout.contains("notify_command exited with status 3: no route")
        }
    }

    @Test func searchFindsPromptWordsAndCommandsAndRefusesUnbalancedQuotes() async throws {
        let turn: [String: Any] = [
            "tools": [["tool_name": "Bash", "tool_input": ["command": "grep -rn quokka src"], "needs_permission": false]],
            "text": "Found the marsupial.",
        ]
        let a = AgentEnv(scenario: scenario([turn]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Tidy up", "--prompt", "refactor the zanzibar module"]).status == 0)
        #expect(try await a.run(["new", "Other"]).status == 0)
        #expect(try await a.run(["run", "1"]).status == 0)
        try await a.waitForStatus(1, "blocked")
        let byPrompt = try await a.run(["search", "zanzibar"])
        #expect(byPrompt.status == 0)
        #expect(byPrompt.stdout.hasPrefix("#1 ") && byPrompt.stdout.contains("[zanzibar]"), "\(byPrompt.stdout)")
        let byCommand = try await a.run(["search", "quokka"])
        #expect(byCommand.stdout.contains("PreToolUse") && byCommand.stdout.contains("grep -rn [quokka] src"), "\(byCommand.stdout)")
        #expect(byCommand.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("#1 ") })
        let json = try await a.run(["search", "marsupial", "--json"]).stdout
        #expect(json.contains("\"task\":1") && json.contains("\"field\":\"Stop\""), "\(json)")
        #expect(try await a.run(["search", "quokka", "--task", "2"]).stdout == "nothing found\n")
        let bad = try await a.run(["search", "\"quokka"])
        #expect(bad.status == 64 && bad.stderr.contains("unbalanced"), "\(bad.stderr)")
        #expect(try await a.run(["search", "grep-rn"]).status == 0)
    }
}

@Suite("Usage on the sprite", .serialized)
struct SpriteUsageTests {
    @Test func usageOnTheSpriteCountsEachMessageOnce() async throws {
        let sim = try await SpriteSimProcess.start()
        let s = SpriteAgentEnv(sim: sim, scenario: scenario([UsageNotifySearchTests.workedTurn, UsageNotifySearchTests.secondTurn]))
        defer { s.cleanUp() }
        #expect(try await s.run(["new", "run the tests"]).status == 0)
        let started = try await s.run(["run", "1"])
        #expect(started.status == 0, "\(started.stderr)")
        try await waitUntil("the first turn ends", timeout: 30) { try await s.run(["events", "1"]).stdout.contains("All tests pass.") }
        UsageNotifySearchTests.expectTotals(try await UsageNotifySearchTests.usage({ try await s.run($0) }, 1), UsageNotifySearchTests.first)
        #expect(try await s.run(["send", "1", "go on please"]).status == 0)
        try await waitUntil("the second turn ends", timeout: 30) { try await s.run(["events", "1"]).stdout.contains("Went on.") }
        UsageNotifySearchTests.expectTotals(try await UsageNotifySearchTests.usage({ try await s.run($0) }, 1), UsageNotifySearchTests.both)
    }
}
