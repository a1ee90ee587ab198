import Foundation
import Testing

/// The hook log is ingested exactly once, whatever it holds and however the shell dies.
@Suite("Hook log ingestion")
struct IngestTests {
    func hookLine(_ task: Int, _ event: String, _ data: String = "{}") -> String {
        #"{"task":\#(task),"event":"\#(event)","ts":\#(Date().timeIntervalSince1970),"data":\#(data)}"# + "\n"
    }

    func append(_ env: TaskEnv, _ bytes: Data) throws {
        let dir = env.home + "/run"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/hooks.log"
        if !FileManager.default.fileExists(atPath: path) {
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: bytes)
        try h.close()
    }

    @Test func malformedBinaryAndHugeLinesNeverStall() async throws {
        let env = TaskEnv()
        try await env.run(["new", "target"])
        var log = Data(hookLine(1, "PreToolUse", #"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#).utf8)
        log.append(Data("this is not json\n".utf8))
        log.append(Data([0xFF, 0xFE, 0x00, 0x01, 0x0A]))
        let big = String(repeating: "x", count: 1_200_000)
        log.append(Data(hookLine(1, "PostToolUse", #"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_response":{"stdout":"\#(big)"}}"#).utf8))
        log.append(Data(hookLine(1, "Stop", #"{"hook_event_name":"Stop","last_assistant_message":"after the big one"}"#).utf8))
        log.append(Data("partial line without newline".utf8))
        try append(env, log)
        let r = try await env.run(["events", "1", "--json"])
        #expect(r.status == 0)
        let all = try await env.run(["events", "1"]).stdout
        #expect(all.contains("after the big one"))
        // Lines without a task id are stored (malformed) but belong to no task.
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 3, "PreToolUse, the truncated PostToolUse, Stop: \(lines.count)")
        #expect(lines.allSatisfy { $0.utf8.count < 200_000 }, "huge lines are stored truncated")
        let db = env.home + "/task.db"
        let count = try await runCommand(["sqlite3", db, "SELECT count(*), sum(event = 'malformed') FROM hook_events"])
        #expect(count.stdout == "5|2\n")
        // The partial line waits for its newline, then is stored once.
        try append(env, Data("\n".utf8))
        try await env.run(["list"])
        #expect(try await runCommand(["sqlite3", db, "SELECT count(*) FROM hook_events"]).stdout == "6\n")
        try await env.run(["list"])
        #expect(try await runCommand(["sqlite3", db, "SELECT count(*) FROM hook_events"]).stdout == "6\n")
    }

    @Test func killingTheShellMidIngestLosesNothingAndStoresNothingTwice() async throws {
        let env = TaskEnv()
        try await env.run(["new", "target"])
        let total = 6000
        let body = (0..<total).map {
            hookLine(1, "PreToolUse", #"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo \#($0)"}}"#)
        }.joined()
        try append(env, Data(body.utf8))
        // Several shells ingest and are killed with SIGKILL at different moments.
        for delay in [5, 20, 60] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["TASK_HOME=\(env.home)", taskBinary, "list"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            try await Task.sleep(for: .milliseconds(delay))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try await env.run(["list"])
        let db = env.home + "/task.db"
        let r = try await runCommand(["sqlite3", db, "SELECT count(*), count(DISTINCT source_offset) FROM hook_events"])
        #expect(r.stdout == "\(total)|\(total)\n")
        let size = try FileManager.default.attributesOfItem(atPath: env.home + "/run/hooks.log")[.size] as? Int
        let offset = try await runCommand(["sqlite3", db, "SELECT byte_offset FROM hook_sources"])
        #expect(offset.stdout == "\(size ?? -1)\n")
    }

    @Test func eventsForTasksThatAreNotRunningChangeNothing() async throws {
        let env = TaskEnv()
        try await env.run(["new", "idle"])
        try append(env, Data(hookLine(1, "Stop", #"{"hook_event_name":"Stop"}"#).utf8))
        try append(env, Data(hookLine(1, "AgentExit", #"{"exit_code":0}"#).utf8))
        let show = try await env.run(["show", "1", "--json"]).stdout
        #expect(show.contains("\"status\":\"backlog\""))
        #expect(try await env.run(["events", "1"]).stdout.contains("Stop"))
    }
}
