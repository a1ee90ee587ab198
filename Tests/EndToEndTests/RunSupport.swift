import Foundation
import Testing

/// The repository's root (for the stand-in agent).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
let standInAgent = repositoryRoot + "/tools/fake-claude/claude"

/// A data folder, a HOME (for the agent's trust file) and a tmux socket of the test's own, with the
/// stand-in agent as `claude` and short delays.
struct AgentEnv {
    var env = TaskEnv()
    let home = makeTemporaryFolder()
    let socket = "task-run-\(UUID().uuidString.prefix(8))"

    init(scenario: String? = nil) {
        env.extraEnvironment = [
            "HOME": home,
            "TASK_AGENT": standInAgent,
            "TASK_TMUX_SOCKET": socket,
            "FAKE_CLAUDE_THINK_MS": "30",
            "FAKE_CLAUDE_PERMISSION_NOTIFY_MS": "3000",
            "FAKE_CLAUDE_IDLE_NOTIFY_MS": "600000",
            "IS_SANDBOX": "",
        ]
        if let scenario { env.extraEnvironment["FAKE_CLAUDE_SCENARIO"] = scenario }
    }

    @discardableResult
    func run(_ args: [String], stdin: Data? = nil) async throws -> RunResult { try await env.run(args, stdin: stdin) }

    /// Runs each command line as its own `task` process, all at once; their results (in no order).
    func runAtOnce(_ commands: [[String]]) async throws -> [RunResult] {
        try await withThrowingTaskGroup(of: RunResult.self) { group in
            for args in commands { group.addTask { try await run(args) } }
            var all: [RunResult] = []
            for try await r in group { all.append(r) }
            return all
        }
    }

    /// A task's JSON (`show --json`).
    func task(_ id: Int) async throws -> [String: Any] {
        let r = try await run(["show", String(id), "--json"])
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func status(_ id: Int) async throws -> String { try await task(id)["status"] as? String ?? "?" }

    /// The task's events (`events --json`), oldest first.
    func events(_ id: Int) async throws -> [[String: Any]] {
        let r = try await run(["events", String(id), "--json"])
        return r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func eventNames(_ id: Int) async throws -> [String] { try await events(id).compactMap { $0["event"] as? String } }

    /// Waits until the task reaches `status` (checking through the CLI, which catches up first).
    func waitForStatus(_ id: Int, _ wanted: String, timeout: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try await status(id)
            if last == wanted { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("#\(id) never became \(wanted); it is \(last); events: \(try await eventNames(id))")
    }

    /// Ends the test's tmux server (its agents with it) before the test returns.
    func cleanUp() {
        runNow(["tmux", "-L", socket, "kill-server"])
    }
}

/// A scenario for the stand-in agent, as JSON.
func scenario(_ turns: [[String: Any]]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: ["turns": turns])
    return String(decoding: data, as: UTF8.self)
}

func gitRepository() async throws -> String {
    let dir = makeTemporaryFolder() + "/repo"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data("# demo\n".utf8).write(to: URL(fileURLWithPath: dir + "/README.md"))
    for args in [["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init"]] {
        let r = try await runCommand(["git", "-C", dir] + args)
        #expect(r.status == 0, "git \(args): \(r.stderr)")
    }
    return dir
}
