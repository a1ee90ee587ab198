import AgentHooks
import Foundation
import Processes
import Sandbox
import Testing

/// Several processes on one database, big logs, and what must hold across them.
@Suite("Scale and robustness", .serialized)
struct ScaleTests {
    /// A turn with `n` quick tool calls, then a question.
    static func toolTurn(_ n: Int, text: String = "Which branch?") -> [String: Any] {
        ["tools": (1...n).map { ["tool_name": "Bash", "tool_input": ["command": "echo step \($0)"], "needs_permission": false] },
         "text": text]
    }

    @Test func twoShellsBothShowEveryEventOfATaskStartedInOne() async throws {
        let a = AgentEnv(scenario: scenario([Self.toolTurn(20)]))
        defer { a.cleanUp() }
        #expect(try await a.run(["new", "Twenty steps"]).status == 0)
        try await withTaskShell(a.env, width: 120, height: 60) { first in
            try await withTaskShell(a.env, width: 120, height: 60) { second in
                try await first.submit("run 1", waitFor: "#1 ⏸ waiting for input", timeout: 30)
                let other = try await second.waitFor(text: "#1 ⏸ waiting for input", timeout: 30)
                let mine = try await first.screen()
                for screen in [mine, other] {
                    let steps = (1...20).filter { screen.contains("#1 ▸ Bash  echo step \($0)\n") || screen.contains("#1 ▸ Bash  echo step \($0) ") }
                    #expect(steps.count == 20, "every tool event shown once in each shell:\n\(screen)")
                    let lines = screen.split(separator: "\n").filter { $0.contains("echo step 7") && !$0.contains("17") }
                    #expect(lines.count == 1, "nothing twice:\n\(screen)")
                    #expect(screen.contains("· send 1 <text> · attach 1"), "the waiting line says what to type")
                }
            }
        }
    }

    /// Processes that open a new database at the same moment (two shells started together, a
    /// script of one-shot commands) take turns creating its schema: each succeeds, none applies a
    /// migration twice ("duplicate column name" before), and no lock file is left.
    @Test func processesOpeningANewDatabaseAtOnceAllCreateItsSchemaOnce() async throws {
        for round in 1...8 {
            let env = TaskEnv()
            defer { try? FileManager.default.removeItem(atPath: (env.home as NSString).deletingLastPathComponent) }
            let results = try await withThrowingTaskGroup(of: RunResult.self) { group in
                for _ in 1...6 { group.addTask { try await env.run(["list"]) } }
                var all: [RunResult] = []
                for try await r in group { all.append(r) }
                return all
            }
            for r in results { #expect(r.status == 0 && r.stderr.isEmpty, "round \(round): \(r.stderr)") }
            #expect(try await env.run(["new", "Schema complete"]).status == 0)
            let files = try FileManager.default.contentsOfDirectory(atPath: env.home)
            #expect(!files.contains { $0.hasSuffix("-migrating") }, "\(files)")
        }
    }

    @Test func sixConcurrentRunsWithMaxRunningTwoStartTwoAndQueueFour() async throws {
        let a = AgentEnv(scenario: scenario([["text": "Ready when you are."]]))
        defer { a.cleanUp() }
        #expect(try await a.run(["config", "set", "max_running", "2"]).status == 0)
        #expect(try await a.run(["config", "set", "start_timeout", "0"]).status == 0)
        for i in 1...6 { #expect(try await a.run(["new", "Task \(i)"]).status == 0) }
        // Six processes at once, each claiming a slot.
        let results = try await a.runAtOnce((1...6).map { ["run", String($0)] })
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        #expect(results.filter { $0.stdout.contains(" started in ") }.count == 2)
        #expect(results.filter { $0.stdout.contains(" queued ") }.count == 4)
        func statuses() async throws -> [String] {
            var out: [String] = []
            for i in 1...6 { out.append(try await a.status(i)) }
            return out
        }
        var now = try await statuses()
        #expect(now.filter { $0 == "queued" }.count == 4 && now.filter { $0 == "processing" || $0 == "blocked" }.count == 2, "\(now)")
        let windows = try await runCommand(["tmux", "-L", a.socket, "list-windows", "-a", "-F", "#{window_name}"])
        #expect(windows.stdout.split(separator: "\n").filter { $0.hasPrefix("task-") }.count == 2, "two agents: \(windows.stdout)")
        // Each slot freed starts exactly one queued task, whichever processes look.
        let running = (1...6).filter { now[$0 - 1] != "queued" }
        #expect(try await a.run(["done", String(running[0])]).status == 0)
        _ = try await a.runAtOnce(Array(repeating: ["list"], count: 3))
        now = try await statuses()
        #expect(now.filter { $0 == "queued" }.count == 3, "\(now)")
        #expect(now.filter { $0 == "processing" || $0 == "blocked" }.count == 2, "\(now)")
        #expect(now.filter { $0 == "done" }.count == 1, "\(now)")
    }

    @Test func aCatchUpKilledBetweenCommitsStoresEveryLineExactlyOnce() async throws {
        let a = AgentEnv()
        #expect(try await a.run(["new", "Big log"]).status == 0)
        // 40 000 lines of ~600 bytes: about 24 MB, six 4 MiB batches, each its own commit.
        let count = 40_000
        let pad = String(repeating: "x", count: 520)
        var log = Data()
        for i in 1...count {
            log.append(contentsOf: Array(#"{"task":1,"event":"PreToolUse","ts":1.5,"data":{"tool_name":"Bash","tool_input":{"command":"echo \#(i) \#(pad)"}}}"#.utf8))
            log.append(0x0A)
        }
        try FileManager.default.createDirectory(atPath: a.env.home + "/run", withIntermediateDirectories: true)
        try log.write(to: URL(fileURLWithPath: a.env.home + "/run/hooks.log"))
        let db = a.env.home + "/task.db"
        func stored() async throws -> Int64 {
            let r = try await runCommand(["sqlite3", db, "SELECT COALESCE((SELECT byte_offset FROM hook_sources WHERE source = 'local'), 0)"])
            return Int64(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        var killedMidway = false
        for _ in 0..<5 where !killedMidway {
            let child = try ChildProcess.spawn(
                executable: "/usr/bin/env", argv: ["/usr/bin/env"] + a.env.unsetArguments + [taskBinary, "list"],
                environment: a.env.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 },
                cwd: nil, stdin: .null, stdout: .null, stderr: .null, newProcessGroup: false)
            let deadline = Date().addingTimeInterval(30)
            var offset: Int64 = 0
            while Date() < deadline {
                offset = try await stored()
                if offset > 0 { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            child.signal(SIGKILL)
            _ = child.waitForExit()
            offset = try await stored()
            if offset > 0 && offset < Int64(log.count) { killedMidway = true }
            if offset >= Int64(log.count) {
                // It finished first: start over with a fresh store of the same log.
                try? FileManager.default.removeItem(atPath: db)
                try? FileManager.default.removeItem(atPath: db + "-wal")
                try? FileManager.default.removeItem(atPath: db + "-shm")
                #expect(try await a.run(["new", "Big log"]).status == 0)
            }
        }
        #expect(killedMidway, "a kill landed after the first commit and before the last")
        #expect(try await a.run(["list"]).status == 0)
        let rows = try await runCommand(["sqlite3", db, "SELECT COUNT(*), COUNT(DISTINCT source_offset) FROM hook_events"])
        #expect(rows.stdout == "\(count)|\(count)\n")
        #expect(try await stored() == Int64(log.count))
    }

    @Test func aRotatedLogUnderLoadWithCrashesLosesNothingAndStoresNothingTwice() async throws {
        var setup = AgentEnv()
        setup.env.extraEnvironment["TASK_HOOK_LOG_ROTATE_BYTES"] = "20000"
        let a = setup
        #expect(try await a.run(["new", "Rotating"]).status == 0)
        #expect(try await a.run(["list"]).status == 0)   // installs nothing yet: make the hook script
        let run = a.env.home + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try Data(HookScript.text.utf8).write(to: URL(fileURLWithPath: run + "/hook.sh"))
        // Four writers append 600 lines each through the hook script (its lock and rotation check).
        let writers = (1...4).map { w in
            "i=1; while [ $i -le 600 ]; do printf '{\"n\":\"%s-%s\"}' \(w) $i | sh \(run)/hook.sh 1 PreToolUse \(run)/hooks.log; i=$((i+1)); done"
        }
        let procs = try writers.map { script in
            try ChildProcess.spawn(executable: "/bin/sh", argv: ["sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"],
                                   cwd: nil, stdin: .null, stdout: .null, stderr: .null, newProcessGroup: false)
        }
        // Meanwhile catch-ups run, some of them killed at random moments.
        var kills = 0
        while procs.contains(where: { !exited($0.pid) }) {
            let c = try ChildProcess.spawn(
                executable: "/usr/bin/env", argv: ["/usr/bin/env"] + a.env.unsetArguments + [taskBinary, "list"],
                environment: a.env.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 },
                cwd: nil, stdin: .null, stdout: .null, stderr: .null, newProcessGroup: false)
            if kills % 2 == 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 1...15))); c.signal(SIGKILL) }
            _ = c.waitForExit()
            kills += 1
        }
        for p in procs { _ = p.waitForExit() }
        #expect(try await a.run(["list"]).status == 0)
        let db = a.env.home + "/task.db"
        let rows = try await runCommand(["sqlite3", db, "SELECT COUNT(*), COUNT(DISTINCT json_extract(line, '$.data.n')) FROM hook_event_lines"])
        #expect(rows.stdout == "2400|2400\n", "every line once: \(rows.stdout)")
        let generations = try await runCommand(["sqlite3", db, "SELECT generation FROM hook_sources WHERE source = 'local'"])
        #expect((Int(generations.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 3, "the log was rotated: \(generations.stdout)")
        let size = (try? FileManager.default.attributesOfItem(atPath: run + "/hooks.log")[.size] as? Int) ?? 0
        #expect(size < 200_000, "the log stays small: \(size)")
        #expect(!FileManager.default.fileExists(atPath: run + "/hooks.log.lock"))
    }

    @Test func aHookLogRemovedByHandIsSaidOnceAndReadAfresh() async throws {
        let a = AgentEnv()
        #expect(try await a.run(["new", "Hand"]).status == 0)
        let log = a.env.home + "/run/hooks.log"
        try FileManager.default.createDirectory(atPath: a.env.home + "/run", withIntermediateDirectories: true)
        let line = { (n: Int) in #"{"task":1,"event":"Notification","ts":1.5,"data":{"message":"m\#(n)","notification_type":"x"}}"# + "\n" }
        try Data((line(1) + line(2)).utf8).write(to: URL(fileURLWithPath: log))
        #expect(try await a.run(["list"]).status == 0)
        try FileManager.default.removeItem(atPath: log)
        try Data(line(3).utf8).write(to: URL(fileURLWithPath: log))
        let first = try await a.run(["list"])
        #expect(first.stderr.contains("by hand") && first.stderr.contains("reading the new one from its start"), "\(first.stderr)")
        let second = try await a.run(["list"])
        #expect(!second.stderr.contains("by hand"), "said once")
        let events = try await a.events(1).compactMap { ($0["raw"] as? [String: Any])?["data"] as? [String: Any] }.compactMap { $0["message"] as? String }
        #expect(events == ["m1", "m2", "m3"])
    }

    @Test func eventOptionsAndPruneRefuseBadInputAndStream() async throws {
        let a = AgentEnv()
        #expect(try await a.run(["new", "Events"]).status == 0)
        try FileManager.default.createDirectory(atPath: a.env.home + "/run", withIntermediateDirectories: true)
        var log = ""
        for i in 1...50 { log += #"{"task":1,"event":"PreToolUse","ts":1.5,"data":{"tool_name":"Bash","tool_input":{"command":"echo \#(i)"}}}"# + "\n" }
        try Data(log.utf8).write(to: URL(fileURLWithPath: a.env.home + "/run/hooks.log"))
        let limited = try await a.run(["events", "1", "--limit", "3"])
        #expect(limited.stdout.split(separator: "\n").count == 3 && limited.stdout.contains("echo 1\n"))
        let tail = try await a.run(["events", "1", "--tail", "2", "--json"])
        let tailLines = tail.stdout.split(separator: "\n")
        #expect(tailLines.count == 2 && tailLines[1].contains("echo 50"))
        #expect(tailLines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
        #expect(try await a.run(["events", "1", "--since", "1h"]).stdout.split(separator: "\n").count == 50)
        #expect(try await a.run(["events", "1", "--since", "2999-01-01"]).stdout.isEmpty)
        for bad in [["--limit", "0"], ["--tail", "x"], ["--since", "yesterday"], ["--limit", "-3"]] {
            let r = try await a.run(["events", "1"] + bad)
            #expect(r.status == 64, "\(bad): \(r.status) \(r.stderr)")
        }
        // prune: a task that is not finished is refused; in a script it needs --force.
        let running = try await a.run(["prune", "--task", "1", "--force"])
        #expect(running.status == 1 && running.stderr.contains("only a finished task's events"), "\(running.stderr)")
        #expect(try await a.run(["done", "1"]).status == 0)
        let asked = try await a.run(["prune"])
        #expect(asked.status == 1 && asked.stderr.contains("add --force"))
        let pruned = try await a.run(["prune", "--force"])
        #expect(pruned.status == 0 && pruned.stdout.contains("pruned 50 events"), "\(pruned.stdout)\(pruned.stderr)")
        #expect(try await a.run(["events", "1"]).stdout.isEmpty)
        #expect(try await a.run(["show", "1"]).stdout.contains("Events"))
    }
}

/// Whether the child `pid` has ended (without reaping it).
func exited(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
}
