import Foundation
import GRDB
import GRDBSQLite

/// Which stored events a read returns.
public struct EventFilter: Sendable {
    public var taskID: Int64?
    /// Only events with a larger id.
    public var afterID: Int64 = 0
    /// Only events stored at or after this time (seconds since 1970).
    public var since: Double?
    /// At most this many, oldest first.
    public var limit: Int?
    /// Only the newest this many (still printed oldest first).
    public var tail: Int?

    public init(taskID: Int64? = nil, afterID: Int64 = 0, since: Double? = nil, limit: Int? = nil, tail: Int? = nil) {
        self.taskID = taskID
        self.afterID = afterID
        self.since = since
        self.limit = limit
        self.tail = tail
    }
}

extension TaskStore {
    /// One stored event as SQLite holds it, valid only inside the callback: `events` prints
    /// 300 000 of them without a String or an allocation per field.
    public struct RawEventRow {
        public var id: Int64
        public var taskID: Int64?
        public var event: UnsafeBufferPointer<UInt8>
        public var toolName: UnsafeBufferPointer<UInt8>?
        public var summary: UnsafeBufferPointer<UInt8>
        /// The hook line as stored (``StoredLine``): see ``line`` and ``lineString``.
        public var stored: UnsafeBufferPointer<UInt8>
        public var appendedAt: Double?
        public var receivedAt: Double
        public var offset: Int64

        /// The hook line, taken apart without a copy.
        public var line: StoredLine.Shape { StoredLine.shape(stored) }

        /// The hook line as the hook script wrote it.
        public var lineString: String {
            StoredLine.expand(String(decoding: stored, as: UTF8.self), taskID: taskID, event: String(decoding: event, as: UTF8.self))
        }
    }

    /// Calls `body` with each event of the filter, oldest first, as SQLite steps through them
    /// (one read transaction; memory does not grow with the number of events).
    public func forEachRawEvent(_ filter: EventFilter, _ body: (RawEventRow) throws -> Void) throws {
        try readStreaming { db in
            var conditions = ["id > ?"]
            var args: StatementArguments = [filter.afterID]
            if let t = filter.taskID {
                conditions.append("task_id = ?")
                _ = args.append(contentsOf: [t])
            }
            if let since = filter.since {
                conditions.append("received_at >= ?")
                _ = args.append(contentsOf: [since])
            }
            let columns = "id, task_id, event, tool_name, summary, raw_json, appended_at, received_at, source_offset"
            var sql = "SELECT \(columns) FROM hook_events WHERE " + conditions.joined(separator: " AND ")
            if let tail = filter.tail {
                sql = "SELECT * FROM (\(sql) ORDER BY id DESC LIMIT \(tail)) ORDER BY id"
            } else {
                sql += " ORDER BY id"
            }
            if let limit = filter.limit { sql += " LIMIT \(limit)" }
            let statement = try db.makeStatement(sql: sql)
            statement.arguments = args
            let s = statement.sqliteStatement
            func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? { Self.columnText(s, column) }
            let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            defer { sqlite3_reset(s) }
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let stored = text(5) ?? empty
                var appendedAt: Double?
                if sqlite3_column_type(s, 6) != SQLITE_NULL {
                    appendedAt = sqlite3_column_double(s, 6)
                } else if case .compact(let ts, _) = StoredLine.shape(stored) {
                    appendedAt = StoredLine.appendedAt(ts: ts)
                }
                try body(RawEventRow(
                    id: sqlite3_column_int64(s, 0),
                    taskID: sqlite3_column_type(s, 1) == SQLITE_NULL ? nil : sqlite3_column_int64(s, 1),
                    event: text(2) ?? empty, toolName: text(3), summary: text(4) ?? empty, stored: stored,
                    appendedAt: appendedAt, receivedAt: sqlite3_column_double(s, 7), offset: sqlite3_column_int64(s, 8)))
            }
        }
    }

    /// Calls `body` with each history entry, newest `limit` of them, oldest first, as read.
    public func forEachHistory(limit: Int, search: String? = nil, _ body: (HistoryEntry) throws -> Void) throws {
        try read { db in
            var sql = "SELECT id, line, exit_status, created_at FROM history"
            var args: StatementArguments = []
            if let search, !search.isEmpty {
                sql += " WHERE instr(line, ?) > 0"
                _ = args.append(contentsOf: [search])
            }
            sql = "SELECT * FROM (\(sql) ORDER BY id DESC LIMIT ?) ORDER BY id"
            _ = args.append(contentsOf: [limit])
            let rows = try Row.fetchCursor(db, sql: sql, arguments: args)
            while let r = try rows.next() {
                try body(HistoryEntry(id: r[0], line: r[1], exitStatus: r[2], createdAt: r[3]))
            }
        }
    }

    /// How many events `pruneEvents` would delete.
    public func prunableEventCount(taskID: Int64?, before: Double?) throws -> Int {
        try read { db in
            let (clause, args) = Self.pruneClause(taskID: taskID, before: before)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_events e WHERE " + clause, arguments: args) ?? 0
        }
    }

    /// Deletes the events of finished tasks (one task's, or those stored before a time); returns how many.
    /// Events of running tasks are never deleted.
    public func pruneEvents(taskID: Int64?, before: Double?) throws -> Int {
        try write { db in
            let (clause, args) = Self.pruneClause(taskID: taskID, before: before)
            try db.execute(sql: "DELETE FROM hook_events AS e WHERE " + clause, arguments: args)
            let deleted = db.changesCount
            if deleted > 0 { try Self.resetEventIndex(db) }
            return deleted
        }
    }

    static func pruneClause(taskID: Int64?, before: Double?) -> (String, StatementArguments) {
        var clause = "e.task_id IN (SELECT id FROM tasks WHERE status IN ('done','failed','cancelled')"
        var args: StatementArguments = []
        if let taskID {
            clause += " AND id = ?"
            _ = args.append(contentsOf: [taskID])
        }
        clause += ")"
        if let before {
            clause += " AND e.received_at < ?"
            _ = args.append(contentsOf: [before])
        }
        return (clause, args)
    }

    /// Gives free pages back to the file system (`VACUUM`), then truncates the WAL.
    public func vacuum() throws {
        do {
            try pool.vacuum()
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        } catch let e as DatabaseError {
            throw TaskError.failed(Self.describe(e, path: path))
        }
    }

    /// The database's size on disk, with its WAL.
    public func fileBytes() -> Int64 {
        [path, path + "-wal"].reduce(0) { total, p in
            var info = stat()
            return total + (stat(p, &info) == 0 ? Int64(info.st_size) : 0)
        }
    }

    /// A read that streams a large part of the database: without the memory map the other reads
    /// use (it made 300 000 events count 219 MB of mapped pages in the process's RSS; read through
    /// SQLite's page cache the RSS stays a few MB), in one read transaction.
    func readStreaming<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.unsafeRead { db in
                try db.execute(sql: "PRAGMA mmap_size = 0")
                defer { try? db.execute(sql: "PRAGMA mmap_size = 268435456") }
                var result: T?
                try db.inTransaction(.deferred) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let e as DatabaseError {
            throw TaskError.failed(Self.describe(e, path: path))
        }
    }
}
