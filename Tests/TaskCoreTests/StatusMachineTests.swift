import AgentHooks
import Foundation
import Testing
import TaskCore

/// Every row of the status machine (README, "Status machine"), driven through the store as
/// ingestion drives it: a hook line in, the task's status and detail out.
@Suite("Status machine")
struct StatusMachineTests {
    struct Row: CustomStringConvertible, Sendable {
        var from: TaskStatus
        var detail: String? = nil
        var line: String
        var to: TaskStatus
        var toDetail: String?
        var description: String { "\(from) + \(line.prefix(60)) → \(to)" }
    }

    static func hook(_ event: String, _ data: String = "{}") -> String { #"{"task":1,"event":"\#(event)","ts":1.5,"data":\#(data)}"# }

    static let rows: [Row] = [
        Row(from: .queued, line: hook("SessionStart"), to: .processing, toDetail: nil),
        Row(from: .blocked, detail: "agent waiting at start-up: Press Enter", line: hook("SessionStart"), to: .processing, toDetail: nil),
        Row(from: .blocked, detail: "waiting for input", line: hook("SessionStart"), to: .blocked, toDetail: "waiting for input"),
        Row(from: .blocked, detail: "waiting for input", line: hook("UserPromptSubmit", #"{"prompt":"go"}"#), to: .processing, toDetail: nil),
        Row(from: .blocked, detail: "waiting for permission", line: hook("PreToolUse", #"{"tool_name":"Bash"}"#), to: .processing, toDetail: nil),
        Row(from: .blocked, detail: "waiting for permission", line: hook("PostToolUse", #"{"tool_name":"Bash"}"#), to: .processing, toDetail: nil),
        Row(from: .blocked, detail: "waiting for permission", line: hook("PostToolUseFailure", #"{"tool_name":"Bash"}"#), to: .processing, toDetail: nil),
        Row(from: .processing, line: hook("Stop", #"{"last_assistant_message":"Which branch?"}"#), to: .blocked,
            toDetail: #"waiting for input — "Which branch?""#),
        Row(from: .processing, line: hook("PermissionRequest", #"{"tool_name":"Bash"}"#), to: .blocked, toDetail: "waiting for permission for Bash"),
        Row(from: .processing, line: hook("Notification", #"{"notification_type":"permission_prompt"}"#), to: .blocked,
            toDetail: "waiting for permission"),
        Row(from: .blocked, detail: "waiting for permission for Bash", line: hook("Notification", #"{"notification_type":"permission_prompt"}"#),
            to: .blocked, toDetail: "waiting for permission for Bash"),
        Row(from: .blocked, detail: #"waiting for input — "x""#, line: hook("Notification", #"{"notification_type":"idle_prompt"}"#),
            to: .blocked, toDetail: #"waiting for input — "x""#),
        Row(from: .processing, line: hook("StopFailure", #"{"error":"rate_limit"}"#), to: .blocked, toDetail: "turn failed: rate_limit"),
        Row(from: .processing, line: hook("AgentExit", #"{"exit_code":0}"#), to: .done, toDetail: "agent exited 0"),
        Row(from: .blocked, line: hook("AgentExit", #"{"exit_code":1}"#), to: .failed, toDetail: "agent exited 1"),
        Row(from: .processing, line: hook("AgentExit", #"{"exit_code":0,"pane":"%9"}"#), to: .processing, toDetail: nil),  // an older pane
        Row(from: .cancelled, detail: "stopped by user", line: hook("Stop"), to: .cancelled, toDetail: "stopped by user"),
        Row(from: .done, detail: "closed by user", line: hook("AgentExit", #"{"exit_code":1}"#), to: .done, toDetail: "closed by user"),
        Row(from: .backlog, line: hook("PreToolUse", #"{"tool_name":"Bash"}"#), to: .backlog, toDetail: nil),
    ]

    @Test(arguments: rows)
    func aHookEventMovesTheTaskAsTheTableSays(_ row: Row) throws {
        let dir = NSTemporaryDirectory() + "task-sm-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TaskStore(path: dir + "/task.db")
        let task = try store.createTask(title: "t", prompt: "p", projectName: nil)
        if row.from != .backlog {
            _ = try store.claimSlot(id: task.id, limit: 10, places: Self.here)
            try store.recordLaunch(id: task.id, sandbox: "local", worktree: nil, branch: nil, sessionID: nil, paneID: "%1", permissionMode: nil)
            try store.setStatus(id: task.id, row.from, detail: row.detail)
        }
        let line = row.line + "\n"
        try store.ingest(source: "local", lines: [LogLine(record: HookRecord(line: row.line), endOffset: Int64(line.utf8.count))],
                         newOffset: Int64(line.utf8.count))
        let now = try store.task(id: task.id)
        #expect(now.status == row.to, "\(row)")
        #expect(now.statusDetail == row.toDetail, "\(row)")
    }

    @Test func everyChangeIsOneStatusRowWithItsCause() throws {
        let dir = NSTemporaryDirectory() + "task-sm-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TaskStore(path: dir + "/task.db")
        let task = try store.createTask(title: "t", prompt: "p", projectName: nil)
        let start = try store.feedCursor()
        #expect(try store.claimSlot(id: task.id, limit: 1, places: Self.here) == .claimed(site: "local"))
        let second = try store.createTask(title: "u", prompt: "p", projectName: nil)
        #expect(try store.claimSlot(id: second.id, limit: 1, places: Self.here) == .queued(position: 1))
        let line = Self.hook("Stop") + "\n"
        try store.ingest(source: "local", lines: [LogLine(record: HookRecord(line: Self.hook("Stop")), endOffset: Int64(line.utf8.count))],
                         newOffset: Int64(line.utf8.count))
        try store.setStatus(id: task.id, .cancelled, detail: "stopped by user")
        #expect(try store.claimNextQueued(limit: 1, places: { _ in Self.here })?.id == second.id)
        #expect(try store.claimNextQueued(limit: 1, places: { _ in Self.here }) == nil, "one slot, taken")
        let changes = try store.statusChanges(after: start.log)
        #expect(changes.map { "\($0.taskID) \($0.status.rawValue) \($0.cause.rawValue)" } == [
            "1 processing user", "2 queued user", "1 blocked agent", "1 cancelled user", "2 processing system",
        ])
    }

    static let here = Places(sandbox: "local", sites: ["local"], perSite: 10, fullDetail: "")

    /// The pool: each task goes to the least busy sprite; when every sprite is full it waits
    /// (saying why) while a task bound elsewhere may go first; a freed sprite takes the next one.
    @Test func tasksGoToTheLeastBusySpriteAndWaitWhenEveryOneIsFull() throws {
        let dir = NSTemporaryDirectory() + "task-sm-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TaskStore(path: dir + "/task.db")
        let pool = Places(sandbox: "sprite", sites: ["s", "s-2", "s-3"], perSite: 1, fullDetail: "waiting for a place on a sprite")
        var claims: [SlotClaim] = []
        for n in 1...4 {
            let task = try store.createTask(title: "t\(n)", prompt: "p", projectName: nil)
            claims.append(try store.claimSlot(id: task.id, limit: 10, places: pool))
        }
        #expect(claims == [.claimed(site: "s"), .claimed(site: "s-2"), .claimed(site: "s-3"), .queued(position: 1)])
        #expect(try store.task(id: 4).statusDetail == "waiting for a place on a sprite")
        #expect(try store.activeSites(sandbox: "sprite") == ["s": 1, "s-2": 1, "s-3": 1])
        // A local task behind it is not held up by the full pool.
        let local = try store.createTask(title: "here", prompt: "p", projectName: nil)
        try store.setStatus(id: local.id, .queued)
        let places: (TaskRecord) -> Places = { $0.sandbox == "sprite" ? pool : Self.here }
        #expect(try store.claimNextQueued(limit: 10, places: places)?.id == local.id)
        try store.setStatus(id: 2, .done)
        let next = try store.claimNextQueued(limit: 10, places: places)
        #expect(next?.id == 4 && next?.site == "s-2", "the freed sprite takes the waiting task")
        #expect(try store.claimNextQueued(limit: 10, places: places) == nil)
        // Two per sprite: the least busy first, ties to the first of the pool.
        let two = Places(sandbox: "sprite", sites: ["s", "s-2", "s-3", "s-4"], perSite: 2, fullDetail: "")
        let fifth = try store.createTask(title: "t5", prompt: "p", projectName: nil)
        #expect(try store.claimSlot(id: fifth.id, limit: 10, places: two) == .claimed(site: "s-4"))
        let sixth = try store.createTask(title: "t6", prompt: "p", projectName: nil)
        #expect(try store.claimSlot(id: sixth.id, limit: 10, places: two) == .claimed(site: "s"))
        // max_running still caps the total.
        let seventh = try store.createTask(title: "t7", prompt: "p", projectName: nil)
        #expect(try store.claimSlot(id: seventh.id, limit: 6, places: two) == .queued(position: 1))
        #expect(try store.task(id: seventh.id).statusDetail == "waiting for a slot (max_running 6)")
    }
}
