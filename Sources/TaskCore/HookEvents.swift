import AgentHooks
import Foundation
import GRDB
import GRDBSQLite

/// A stored hook event.
public struct StoredEvent: Sendable, Equatable {
    public var id: Int64
    public var taskID: Int64?
    public var event: String
    public var toolName: String?
    public var summary: String
    public var rawJSON: String
    public var source: String
    public var sourceOffset: Int64
    public var appendedAt: Double?
    public var receivedAt: Double
}

/// What storing one line did: the event, and the task's new status if it changed.
public struct IngestedEvent: Sendable {
    public var event: StoredEvent
    public var record: HookRecord
    public var transition: StatusMachine.Transition?
    public var taskTitle: String?
}

/// A complete line read from a hook log, with the byte offset just past its newline.
public struct LogLine: Sendable {
    public var record: HookRecord
    public var endOffset: Int64

    public init(record: HookRecord, endOffset: Int64) {
        self.record = record
        self.endOffset = endOffset
    }
}

/// Where ingestion of one hook log stands: the file's generation, the byte offset up to which
/// every line of it is stored, and which file that is.
public struct HookSourceState: Sendable, Equatable {
    public var offset: Int64
    public var generation: Int64
    /// `dev:inode` of the log file this generation reads; nil before it was first seen.
    public var fileID: String?
    /// The file task rotated away (so a new file in its place is expected, not reported).
    public var rotatedID: String?

    /// The `source` value stored with this generation's events.
    public func eventSource(_ source: String) -> String { generation == 0 ? source : "\(source)#\(generation)" }
}

/// The hook log was rotated or replaced since the reader started: start it again from the
/// store's state (nothing was stored).
public struct HookLogMoved: Error, CustomStringConvertible {
    public var description: String { "the hook log moved to a new generation" }
}

extension TaskStore {
    /// The byte offset of `source` (a hook log) up to which every line of its current generation is stored.
    public func hookOffset(source: String) throws -> Int64 {
        try hookSource(source).offset
    }

    /// Where ingestion of `source` stands.
    public func hookSource(_ source: String) throws -> HookSourceState {
        try read { db in try Self.hookSource(db, source) }
    }

    static func hookSource(_ db: Database, _ source: String) throws -> HookSourceState {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT byte_offset, generation, file_id, rotated_id FROM hook_sources WHERE source = ?", arguments: [source])
        else { return HookSourceState(offset: 0, generation: 0, fileID: nil) }
        return HookSourceState(offset: row[0], generation: row[1], fileID: row[2], rotatedID: row[3])
    }

    /// Records which file generation `generation` of `source` reads (the first time it is seen).
    public func setHookFile(source: String, generation: Int64, fileID: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO hook_sources (source, byte_offset, updated_at, generation, file_id) VALUES (?, 0, ?, ?, ?)
                    ON CONFLICT(source) DO UPDATE SET file_id = excluded.file_id
                    WHERE hook_sources.generation = excluded.generation AND hook_sources.file_id IS NULL
                    """,
                arguments: [source, now(), generation, fileID])
        }
    }

    /// Notes, before renaming it, that task rotates the file `fileID` of `source` away.
    public func markRotating(source: String, fileID: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE hook_sources SET rotated_id = ? WHERE source = ?", arguments: [fileID, source])
        }
    }

    /// Starts the next generation of `source` — the file `fileID`, read from its first byte — if
    /// `from` is still the current one (of several processes noticing, one switches). Returns
    /// the state after, and whether this call made the switch.
    public func startHookGeneration(source: String, from: HookSourceState, fileID: String) throws -> (HookSourceState, switched: Bool) {
        try write { db in
            let now = TaskCore.now()
            try db.execute(
                sql: """
                    INSERT INTO hook_sources (source, byte_offset, updated_at, generation, file_id) VALUES (?, 0, ?, ?, ?)
                    ON CONFLICT(source) DO UPDATE SET byte_offset = 0, generation = excluded.generation,
                        file_id = excluded.file_id, updated_at = excluded.updated_at
                    WHERE hook_sources.generation = ?
                    """,
                arguments: [source, now, from.generation + 1, fileID, from.generation])
            let switched = db.changesCount > 0
            return (try Self.hookSource(db, source), switched)
        }
    }

    /// Stores `lines` from `source` and moves its offset to `newOffset`, in one transaction, and
    /// applies each event to its task's status. Lines at or below the stored offset were stored
    /// before and are skipped: after a crash or a restart nothing is stored twice.
    /// `pane` checks an `AgentExit` against the task's current pane (an exit from an older run
    /// changes nothing). Returns what was stored when `collect` (to show it), else nothing.
    /// Lines read from an older `generation` than the store's are refused with ``HookLogMoved``.
    @discardableResult
    public func ingest(source: String, generation: Int64 = 0, lines: [LogLine], newOffset: Int64, collect: Bool = true) throws -> [IngestedEvent] {
        try write { db in
            let state = try Self.hookSource(db, source)
            guard state.generation == generation else { throw HookLogMoved() }
            let stored = state.offset
            guard newOffset > stored else { return [] }
            let received = now()
            var result: [IngestedEvent] = []
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO hook_events
                    (task_id, event, tool_name, summary, raw_json, source, source_offset, appended_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let statement = insert.sqliteStatement
            let connection = db.sqliteConnection
            var sourceText = state.eventSource(source)
            // Each task is read once per batch and kept up to date as events change it.
            var tasks: [Int64: TaskRecord?] = [:]
            var storedLine: [UInt8] = []
            for k in lines.indices where lines[k].endOffset > stored {
                // Bound straight through SQLite, the long texts without a copy (they outlive the
                // step): one row per line, 100 000 lines a catch-up. Fields are read in place.
                let endOffset = lines[k].endOffset
                Self.bind(statement, 1, lines[k].record.taskID)
                Self.bind(statement, 3, lines[k].record.toolName)
                sqlite3_bind_int64(statement, 7, endOffset)
                sqlite3_bind_double(statement, 9, received)
                var eventText = lines[k].record.event, summary = lines[k].record.summary, raw = Self.boundedRaw(lines[k].record)
                let malformed = lines[k].record.event == "malformed"
                let rc = eventText.withUTF8 { e in
                    summary.withUTF8 { su in
                        raw.withUTF8 { ra in
                            StoredLine.store(ra, taskID: malformed ? nil : lines[k].record.taskID, event: e, into: &storedLine)
                            // A compact line keeps its time in its `ts`.
                            if storedLine.first != StoredLine.compactMark, let t = lines[k].record.appendedAt {
                                sqlite3_bind_double(statement, 8, t)
                            } else {
                                sqlite3_bind_null(statement, 8)
                            }
                            return storedLine.withUnsafeBufferPointer { st in
                                sourceText.withUTF8 { so in
                                    Self.bindStatic(statement, 2, e)
                                    Self.bindStatic(statement, 4, su)
                                    Self.bindStatic(statement, 5, st)
                                    Self.bindStatic(statement, 6, so)
                                    return sqlite3_step(statement)
                                }
                            }
                        }
                    }
                }
                sqlite3_reset(statement)
                guard rc == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
                }
                guard sqlite3_changes(connection) == 1 else { continue }
                var transition: StatusMachine.Transition?
                var title: String?
                if let id = lines[k].record.taskID {
                    if tasks[id] == nil { tasks[id] = try Self.fetchTaskIfAny(db, id: id) }
                    if let task = tasks[id] ?? nil {
                        title = task.title
                        transition = try apply(db, record: lines[k].record, to: task, eventID: sqlite3_last_insert_rowid(connection))
                        if transition != nil || lines[k].record.event == "SessionStart" { tasks[id] = try Self.fetchTaskIfAny(db, id: id) }
                    }
                }
                guard collect || transition != nil else { continue }
                let r = lines[k].record
                let event = StoredEvent(
                    id: sqlite3_last_insert_rowid(connection), taskID: r.taskID, event: r.event, toolName: r.toolName,
                    summary: r.summary, rawJSON: r.raw, source: sourceText, sourceOffset: endOffset,
                    appendedAt: r.appendedAt, receivedAt: received)
                result.append(IngestedEvent(event: event, record: r, transition: transition, taskTitle: title))
            }
            sqlite3_clear_bindings(statement)
            try db.execute(
                sql: """
                    INSERT INTO hook_sources (source, byte_offset, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(source) DO UPDATE SET byte_offset = excluded.byte_offset, updated_at = excluded.updated_at
                    """,
                arguments: [source, newOffset, received])
            return result
        }
    }

    /// The longest raw hook line stored whole. Past it the row keeps the line's identity and its
    /// first bytes under a `truncated` marker (the agent's transcript keeps the whole).
    public static let maxRawBytes = 256 * 1024

    /// `record.raw`, or for a line over ``maxRawBytes`` a JSON object that says so:
    /// `{"task":3,"event":"PostToolUse","ts":…,"truncated":{"bytes":N},"head":"<its first 64 KiB>"}`.
    static func boundedRaw(_ record: HookRecord) -> String {
        let bytes = record.raw.utf8.count
        guard bytes > maxRawBytes else { return record.raw }
        let head = String(decoding: Array(record.raw.utf8.prefix(64 * 1024)), as: UTF8.self)
        var out = "{\"task\":" + (record.taskID.map(String.init) ?? "null") + ",\"event\":"
        JSONString.append(record.event, to: &out)
        out += ",\"ts\":" + (record.appendedAt.map { String($0) } ?? "null") + ",\"truncated\":{\"bytes\":\(bytes)},\"head\":"
        JSONString.append(head, to: &out)
        return out + "}"
    }

    private static func bind(_ statement: OpaquePointer?, _ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    /// Binds `text` to parameter `index` without a copy: it must stay valid until the step.
    private static func bindStatic(_ statement: OpaquePointer?, _ index: Int32, _ text: UnsafeBufferPointer<UInt8>) {
        let pointer = UnsafeRawPointer(text.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
        sqlite3_bind_text(statement, index, pointer, Int32(text.count), nil)
    }

    private static func bind(_ statement: OpaquePointer?, _ index: Int32, _ text: String?) {
        guard let text else {
            sqlite3_bind_null(statement, index)
            return
        }
        sqlite3_bind_text(statement, index, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
    }

    private func apply(_ db: Database, record r: HookRecord, to task: TaskRecord, eventID: Int64) throws -> StatusMachine.Transition? {
        if r.event == "SessionStart", let sid = r.sessionID, task.status.isActive {
            try db.execute(sql: "UPDATE tasks SET session_id = ? WHERE id = ?", arguments: [sid, task.id])
        }
        if r.event == "AgentExit", let pane = Self.paneOfExit(r.raw), !pane.isEmpty, let current = task.paneID, pane != current {
            return nil
        }
        guard let t = StatusMachine.transition(from: task.status, detail: task.statusDetail, on: r),
              t.status != task.status || t.detail != task.statusDetail else {
            return nil
        }
        try Self.changeStatus(db, task, to: t.status, detail: t.detail, exitCode: t.exitCode, cause: .agent)
        if r.event == "AgentExit" { try keepLastWords(db, raw: r.raw, task: task, exitCode: t.exitCode, eventID: eventID) }
        return t
    }

    /// An agent that failed, or ended before its first hook, leaves what its pane last showed in
    /// the task's log (secrets masked as the history masks them): its own words on why.
    private func keepLastWords(_ db: Database, raw: String, task: TaskRecord, exitCode: Int?, eventID: Int64) throws {
        let hookedSinceLaunch = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM hook_events WHERE task_id = ? AND id < ? AND received_at >= ?)",
            arguments: [task.id, eventID, task.startedAt ?? 0]) ?? false
        guard exitCode != 0 || !hookedSinceLaunch,
              let data = raw.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let text = (object["data"] as? [String: Any])?["last_lines"] as? String
        else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { SecretRedactor.redact(String($0)) }
        guard lines.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return }
        let why = hookedSinceLaunch ? "the agent's last words" : "the agent ended before its first hook; its last words"
        try db.execute(
            sql: "INSERT INTO task_logs (task_id, kind, message, created_at) VALUES (?, 'output', ?, ?)",
            arguments: [task.id, why + ":\n" + lines.joined(separator: "\n"), now()])
    }

    static func fetchTaskIfAny(_ db: Database, id: Int64) throws -> TaskRecord? {
        let statement = try db.cachedStatement(
            sql: "SELECT \(taskColumns) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = ?")
        return try Row.fetchOne(statement, arguments: [id]).map(task(from:))
    }

    /// The `pane` an AgentExit record names (the tmux pane the agent ran in).
    static func paneOfExit(_ raw: String) -> String? {
        guard let data = raw.data(using: .utf8),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let inner = obj["data"] as? [String: Any] else { return nil }
        return inner["pane"] as? String
    }

    /// Stored events, oldest first: all, or one task's; only those after `afterID` when given.
    public func events(taskID: Int64?, afterID: Int64 = 0, limit: Int = 1000) throws -> [StoredEvent] {
        try read { db in
            var sql = """
                SELECT id, task_id, event, tool_name, summary, raw_json, source, source_offset, appended_at, received_at
                FROM hook_events WHERE id > ?
                """
            var args: StatementArguments = [afterID]
            if let taskID {
                sql += " AND task_id = ?"
                _ = args.append(contentsOf: [taskID])
            }
            sql += " ORDER BY id LIMIT ?"
            _ = args.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                let taskID: Int64? = row[1], event: String = row[2]
                let line = StoredLine.expand(row[5], taskID: taskID, event: event)
                return StoredEvent(
                    id: row[0], taskID: taskID, event: event, toolName: row[3], summary: row[4], rawJSON: line,
                    source: row[6], sourceOffset: row[7], appendedAt: row[8] ?? HookRecord(line: line).appendedAt, receivedAt: row[9])
            }
        }
    }

    /// The newest transcript path any event of the task reported.
    public func transcriptPath(taskID: Int64) throws -> String? {
        let raws = try read { db in
            try String.fetchAll(
                db, sql: "SELECT raw_json FROM hook_events WHERE task_id = ? AND event = 'SessionStart' ORDER BY id DESC LIMIT 5",
                arguments: [taskID])
        }.map { StoredLine.expand($0, taskID: taskID, event: "SessionStart") }
        for raw in raws {
            if let p = HookRecord(line: raw).transcriptPath { return p }
        }
        return nil
    }

    /// Records that a task's agent was started in a slot it claimed (``claimSlot(id:limit:sandbox:cause:)``):
    /// where, in which pane and session. `started_at` becomes the launch time (the start-up
    /// watchdog measures from it).
    public func recordLaunch(
        id: Int64, sandbox: String, worktree: String?, branch: String?, sessionID: String?, paneID: String?,
        permissionMode: String?, startedAt: Double? = nil, startCommit: String? = nil
    ) throws {
        try write { db in
            let t = now()
            let started = startedAt.map { min($0, t) } ?? t
            try db.execute(
                sql: """
                    UPDATE tasks SET sandbox = ?, worktree_path = ?, branch = ?,
                        session_id = COALESCE(?, session_id), pane_id = ?, permission_mode = ?, exit_code = NULL,
                        finished_at = NULL, updated_at = ?, started_at = ?, start_commit = COALESCE(start_commit, ?)
                    WHERE id = ?
                    """,
                arguments: [sandbox, worktree, branch, sessionID, paneID, permissionMode, t, started, startCommit, id])
            let task = try Self.fetchTask(db, id: id)
            if task.status == .processing && task.statusDetail == "starting" {
                try Self.changeStatus(db, task, to: .processing, detail: nil, cause: .system)
            }
        }
    }

    /// Tasks whose agent holds a slot (processing or blocked).
    public func runningCount() throws -> Int {
        try read { db in try Self.runningCount(db) }
    }

    /// Queued tasks, oldest first.
    public func queuedTasks() throws -> [TaskRecord] {
        try listTasks(TaskFilter(status: .queued))
    }

    /// The commit the task's branch started from at its first launch (nil without a git project).
    public func startCommit(taskID: Int64) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT start_commit FROM tasks WHERE id = ?", arguments: [taskID]) }
    }

    /// Clears the pane of a task whose agent is gone (tmux reuses pane ids).
    public func clearPane(id: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE tasks SET pane_id = NULL WHERE id = ?", arguments: [id]) }
    }

    /// The sites of `sandbox` (`local`, `sprite`) with tasks placed there that are queued,
    /// processing or blocked, and how many each has (one indexed read).
    public func activeSites(sandbox: String) throws -> [String: Int] {
        try read { db in
            var sites: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: """
                    SELECT site, COUNT(*) FROM tasks WHERE status IN ('queued','processing','blocked') AND sandbox = ?
                        AND site IS NOT NULL GROUP BY site
                    """, arguments: [sandbox]) {
                sites[row[0]] = row[1]
            }
            return sites
        }
    }

    /// Marks (or unmarks) a task to have its branch brought back when it ends (`run --pull`).
    public func setPullWhenDone(id: Int64, _ on: Bool) throws {
        try write { db in
            try db.execute(sql: "UPDATE tasks SET pull_when_done = ? WHERE id = ?", arguments: [on ? 1 : 0, id])
        }
    }

    /// Ended tasks still marked to be pulled, oldest first.
    public func tasksToPull() throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM tasks WHERE pull_when_done = 1 AND status IN ('done','failed','cancelled') ORDER BY id")
        }
    }
}

/// Writes a JSON string literal.
enum JSONString {
    static func append(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
