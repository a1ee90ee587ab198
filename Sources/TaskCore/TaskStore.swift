import Foundation
import GRDB
import GRDBSQLite

/// Which tasks `list` shows.
public struct TaskFilter: Sendable {
    public var status: TaskStatus?
    public var projectName: String?
    /// Include done, failed and cancelled tasks.
    public var includeFinished: Bool
    public var limit: Int?

    public init(status: TaskStatus? = nil, projectName: String? = nil, includeFinished: Bool = false, limit: Int? = nil) {
        self.status = status
        self.projectName = projectName
        self.includeFinished = includeFinished
        self.limit = limit
    }
}

/// The SQLite store: tasks, projects, logs, hook events, history and settings.
/// Every connection runs in WAL mode with foreign keys and a busy timeout, so several
/// shells can share one database.
public final class TaskStore: Sendable {
    public let path: String
    let pool: DatabasePool

    /// The longest title accepted; longer text belongs in the prompt.
    public static let maxTitleLength = 500

    /// Opens (creating if needed) the database and brings its schema up to date.
    public convenience init(path: String) throws {
        try self.init(path: path, migrateUpTo: nil)
    }

    /// Opens the database and applies migrations up to and including `migrateUpTo`
    /// (all of them when nil). Used by tests to build databases of earlier versions.
    public init(path: String, migrateUpTo: String?) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // 16 KiB pages for a new database: rows of hook events (~600 bytes) fill them to ~97%
            // instead of ~90% with 4 KiB pages (measured: 680 → 630 bytes per event). Ignored for
            // an existing file (VACUUM, as prune runs it, converts one).
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Reads map the file instead of copying each page (a 100 000-task list scans ~12 MB).
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }
        do {
            try Self.checkFile(path)
            if migrateUpTo != nil || MigrationLock.mayBeNeeded(beside: path) {
                // A database being made (or migrated by another process): processes take turns,
                // each applying only what the others have not.
                pool = try MigrationLock.holding(beside: path) {
                    let pool = try DatabasePool(path: path, configuration: config)
                    try Schema.migrate(pool, upTo: migrateUpTo)
                    return pool
                }
            } else {
                pool = try DatabasePool(path: path, configuration: config)
                if try !pool.read(Schema.migrator.hasCompletedMigrations) {
                    // Only a database that lacks a migration takes the locks here.
                    try MigrationLock.holding(beside: path) { try Schema.migrate(pool, upTo: nil) }
                }
            }
        } catch let e as TaskError {
            throw e
        } catch let e as DatabaseError {
            throw TaskError.failed(Self.describe(e, path: path))
        }
    }

    /// Refuses files that are plainly not SQLite before SQLite tries to use them.
    static func checkFile(_ path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { return }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 16)) ?? Data()
        if !head.isEmpty, head != Data("SQLite format 3\0".utf8) {
            throw TaskError.failed("\(path) is not a task database (not an SQLite file); move it away or pass --db")
        }
    }

    static func describe(_ e: DatabaseError, path: String) -> String {
        switch e.resultCode {
        case .SQLITE_READONLY:
            "database \(path) is read-only; task needs to write to it (check its permissions)"
        case .SQLITE_NOTADB:
            "\(path) is not a task database (not an SQLite file); move it away or pass --db"
        case .SQLITE_CANTOPEN:
            "cannot open database \(path): \(e.message ?? "unknown error")"
        case .SQLITE_CORRUPT:
            "database \(path) is damaged: \(e.message ?? "corrupt")"
        default:
            "database \(path): \(e.message ?? "\(e.resultCode)")"
        }
    }

    /// Names of the migrations applied to this database.
    public func appliedMigrations() throws -> [String] {
        try read { db in try Schema.migrator.appliedMigrations(db) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as DatabaseError {
            throw TaskError.failed(Self.describe(e, path: path))
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as DatabaseError {
            throw TaskError.failed(Self.describe(e, path: path))
        }
    }

    // MARK: Tasks

    static let taskColumns = """
        t.id, t.title, t.prompt, t.status, t.status_detail, t.project_id, p.name AS project_name,
        t.created_at, t.updated_at, t.started_at, t.finished_at, t.sandbox, t.worktree_path,
        t.branch, t.session_id, t.pane_id, t.exit_code, t.permission_mode, t.site
        """

    static func task(from row: Row) -> TaskRecord {
        TaskRecord(
            id: row[0], title: row[1], prompt: row[2],
            status: TaskStatus(rawValue: row[3]) ?? .backlog, statusDetail: row[4],
            projectID: row[5], projectName: row[6], createdAt: row[7], updatedAt: row[8],
            startedAt: row[9], finishedAt: row[10], sandbox: row[11], worktreePath: row[12],
            branch: row[13], sessionID: row[14], paneID: row[15], exitCode: row[16],
            permissionMode: row[17], site: row[18])
    }

    /// Checks a title: one line, not empty, not too long.
    public static func validateTitle(_ title: String) throws -> String {
        let t = title.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { throw TaskError.usage("a task needs a title") }
        if t.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw TaskError.usage("a title is one line without control characters; put details in --prompt")
        }
        if t.count > maxTitleLength {
            throw TaskError.usage(
                "the title is \(t.count) characters; the limit is \(maxTitleLength) (put details in --prompt)")
        }
        return t
    }

    public func createTask(title: String, prompt: String, projectName: String?) throws -> TaskRecord {
        let title = try Self.validateTitle(title)
        return try write { db in
            let projectID = try projectName.map { try Self.projectID(db, name: $0) }
            let t = now()
            try db.execute(
                sql: """
                    INSERT INTO tasks (title, prompt, status, project_id, created_at, updated_at)
                    VALUES (?, ?, 'backlog', ?, ?, ?)
                    """,
                arguments: [title, prompt, projectID, t, t])
            return try Self.fetchTask(db, id: db.lastInsertedRowID)
        }
    }

    static func fetchTask(_ db: Database, id: Int64) throws -> TaskRecord {
        let sql = "SELECT \(taskColumns) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = ?"
        guard let row = try Row.fetchOne(db, sql: sql, arguments: [id]) else {
            throw TaskError.failed("no task #\(id)")
        }
        return task(from: row)
    }

    public func task(id: Int64) throws -> TaskRecord {
        try read { db in try Self.fetchTask(db, id: id) }
    }

    public func taskExists(id: Int64) throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM tasks WHERE id = ?", arguments: [id]) ?? false }
    }

    public func listTasks(_ filter: TaskFilter = TaskFilter()) throws -> [TaskRecord] {
        try read { db in
            let (clause, args) = try Self.whereClause(db, filter)
            let sql = "SELECT \(Self.taskColumns) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
                + clause + " ORDER BY t.id" + (filter.limit.map { " LIMIT \($0)" } ?? "")
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: args)
            var result: [TaskRecord] = []
            while let row = try cursor.next() { result.append(Self.task(from: row)) }
            return result
        }
    }

    /// The WHERE clause and arguments of a filter.
    static func whereClause(_ db: Database, _ filter: TaskFilter) throws -> (String, StatementArguments) {
        var clauses: [String] = []
        var args: StatementArguments = []
        if let s = filter.status {
            clauses.append("t.status = ?")
            _ = args.append(contentsOf: [s.rawValue])
        } else if !filter.includeFinished {
            // Three comparisons are cheaper per row than NOT IN's lookup table.
            clauses.append("t.status <> 'done' AND t.status <> 'failed' AND t.status <> 'cancelled'")
        }
        if let p = filter.projectName {
            clauses.append("t.project_id = ?")
            _ = args.append(contentsOf: [try projectID(db, name: p)])
        }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), args)
    }

    /// One row of the `list` table, as SQLite holds it: the text columns are borrowed bytes, valid
    /// only inside the callback (no String is made per field: `list` over 100 000 tasks stays fast).
    public struct RawListRow {
        public var id: Int64
        public var status: UnsafeBufferPointer<UInt8>
        public var projectID: Int64?
        public var createdAt: Double
        public var title: UnsafeBufferPointer<UInt8>
        /// The status detail of a blocked task (why it waits); empty for others.
        public var detail: UnsafeBufferPointer<UInt8>
        /// The sprite of a task placed on one; empty for others.
        public var sprite: UnsafeBufferPointer<UInt8>
    }

    /// A text column of the current row in place (valid until the next step); nil for NULL.
    static func columnText(_ statement: OpaquePointer?, _ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard let p = sqlite3_column_text(statement, column) else { return nil }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, column)))
    }

    /// Calls `body` for each task of the filter with only the columns `list` shows.
    public func forEachListRow(_ filter: TaskFilter, _ body: (RawListRow) throws -> Void) throws {
        try read { db in
            let (clause, args) = try Self.whereClause(db, filter)
            // No join: the few project names are looked up by the caller (see projectNames()).
            let sql = "SELECT t.id, t.status, t.project_id, t.created_at, t.title, "
                + "CASE WHEN t.status = 'blocked' THEN t.status_detail END, CASE WHEN t.sandbox = 'sprite' THEN t.site END FROM tasks t"
                + clause + " ORDER BY t.id" + (filter.limit.map { " LIMIT \($0)" } ?? "")
            let statement = try db.makeStatement(sql: sql)
            statement.arguments = args
            let s = statement.sqliteStatement
            func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? { Self.columnText(s, column) }
            let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                try body(RawListRow(
                    id: sqlite3_column_int64(s, 0), status: text(1) ?? empty,
                    projectID: sqlite3_column_type(s, 2) == SQLITE_NULL ? nil : sqlite3_column_int64(s, 2),
                    createdAt: sqlite3_column_double(s, 3), title: text(4) ?? empty, detail: text(5) ?? empty,
                    sprite: text(6) ?? empty))
            }
            sqlite3_reset(s)
        }
    }

    /// SQL for a task as a JSON object in the documented shape (keys in order; times RFC 3339 UTC
    /// with milliseconds). SQLite builds the text, which keeps `list --json` fast on big databases.
    public static let taskJSONExpression = """
        json_object(
            'id', t.id, 'title', t.title, 'prompt', t.prompt, 'status', t.status,
            'status_detail', t.status_detail, 'project', p.name,
            'created_at', strftime('%Y-%m-%dT%H:%M:%fZ', t.created_at, 'unixepoch'),
            'updated_at', strftime('%Y-%m-%dT%H:%M:%fZ', t.updated_at, 'unixepoch'),
            'started_at', strftime('%Y-%m-%dT%H:%M:%fZ', t.started_at, 'unixepoch'),
            'finished_at', strftime('%Y-%m-%dT%H:%M:%fZ', t.finished_at, 'unixepoch'),
            'sandbox', t.sandbox, 'sprite', CASE WHEN t.sandbox = 'sprite' THEN t.site END,
            'branch', t.branch, 'worktree', t.worktree_path,
            'session_id', t.session_id, 'exit_code', t.exit_code,
            'cost_usd', (SELECT ROUND(SUM(u.cost_usd), 6) FROM usage_messages u WHERE u.task_id = t.id))
        """

    /// Calls `body` with each task of the filter as a JSON object.
    public func forEachTaskJSON(_ filter: TaskFilter, _ body: (String) throws -> Void) throws {
        try read { db in
            let (clause, args) = try Self.whereClause(db, filter)
            let sql = "SELECT \(Self.taskJSONExpression) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id"
                + clause + " ORDER BY t.id" + (filter.limit.map { " LIMIT \($0)" } ?? "")
            let cursor = try String.fetchCursor(db, sql: sql, arguments: args)
            while let json = try cursor.next() { try body(json) }
        }
    }

    /// One task as a JSON object (the same shape as `forEachTaskJSON`).
    public func taskJSON(id: Int64) throws -> String {
        try read { db in
            let sql = "SELECT \(Self.taskJSONExpression) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = ?"
            guard let json = try String.fetchOne(db, sql: sql, arguments: [id]) else { throw TaskError.failed("no task #\(id)") }
            return json
        }
    }

    /// Changes what was given; nil leaves a field as it is. `projectName` "" clears the project.
    public func editTask(id: Int64, title: String?, prompt: String?, projectName: String?) throws -> TaskRecord {
        let title = try title.map(Self.validateTitle)
        return try write { db in
            _ = try Self.fetchTask(db, id: id)
            var sets: [String] = []
            var args: StatementArguments = []
            if let title { sets.append("title = ?"); _ = args.append(contentsOf: [title]) }
            if let prompt { sets.append("prompt = ?"); _ = args.append(contentsOf: [prompt]) }
            if let projectName {
                let pid: Int64? = projectName.isEmpty ? nil : try Self.projectID(db, name: projectName)
                sets.append("project_id = ?")
                _ = args.append(contentsOf: [pid])
            }
            sets.append("updated_at = ?")
            _ = args.append(contentsOf: [now()])
            _ = args.append(contentsOf: [id])
            try db.execute(sql: "UPDATE tasks SET \(sets.joined(separator: ", ")) WHERE id = ?", arguments: args)
            return try Self.fetchTask(db, id: id)
        }
    }

    public func deleteTask(id: Int64) throws {
        try write { db in
            _ = try Self.fetchTask(db, id: id)
            try Self.unindexEvents(db, taskID: id)
            try db.execute(sql: "DELETE FROM hook_events WHERE task_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM tasks WHERE id = ?", arguments: [id])
        }
    }

    // MARK: Projects

    static func projectID(_ db: Database, name: String) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM projects WHERE name = ?", arguments: [name]) {
            return id
        }
        let names = try String.fetchAll(db, sql: "SELECT name FROM projects ORDER BY name")
        let hint = names.isEmpty ? "add one with: project add <name> <path>" : "projects: \(names.joined(separator: ", "))"
        throw TaskError.failed("no project '\(name)' (\(hint))")
    }

    public func addProject(name: String, path: String) throws -> ProjectRecord {
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw TaskError.usage("a project name is one word, not '\(name)'")
        }
        return try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM projects WHERE name = ?", arguments: [name]) ?? false {
                throw TaskError.failed("project '\(name)' exists already")
            }
            let t = now()
            try db.execute(
                sql: "INSERT INTO projects (name, path, created_at) VALUES (?, ?, ?)", arguments: [name, path, t])
            return ProjectRecord(id: db.lastInsertedRowID, name: name, path: path, createdAt: t)
        }
    }

    /// Project names by id.
    public func projectNames() throws -> [Int64: String] {
        try read { db in
            var names: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM projects") { names[row[0]] = row[1] }
            return names
        }
    }

    public func projects() throws -> [ProjectRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.id, p.name, p.path, p.created_at, COUNT(t.id)
                    FROM projects p LEFT JOIN tasks t ON t.project_id = p.id
                    GROUP BY p.id ORDER BY p.name
                    """
            ).map { ProjectRecord(id: $0[0], name: $0[1], path: $0[2], createdAt: $0[3], taskCount: $0[4]) }
        }
    }

    public func project(named name: String) throws -> ProjectRecord {
        guard let p = try projects().first(where: { $0.name == name }) else {
            _ = try read { db in try Self.projectID(db, name: name) }
            throw TaskError.failed("no project '\(name)'")
        }
        return p
    }

    public func removeProject(name: String) throws {
        try write { db in
            let id = try Self.projectID(db, name: name)
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE project_id = ?", arguments: [id]) ?? 0
            if n > 0 {
                throw TaskError.failed(
                    "project '\(name)' still has \(n) task\(n == 1 ? "" : "s"); delete them or move them with edit --project")
            }
            try db.execute(sql: "DELETE FROM projects WHERE id = ?", arguments: [id])
        }
    }

    /// This database's id, made once with its schema (16 hex digits): what a sprite records of
    /// the database it serves.
    public func databaseID() throws -> String {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'database_id'") } ?? ""
    }

    // MARK: Settings

    public func setting(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }

    public func storedSettings() throws -> [String: String] {
        try read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") { result[row[0]] = row[1] }
            return result
        }
    }

    // MARK: History

    /// Stores a typed line (redacted), collapsing a repeat of the previous line.
    public func appendHistory(_ line: String, exitStatus: Int?) throws {
        let stored = SecretRedactor.redact(line)
        try write { db in
            let last = try Row.fetchOne(db, sql: "SELECT id, line FROM history ORDER BY id DESC LIMIT 1")
            if let last, (last[1] as String) == stored {
                try db.execute(
                    sql: "UPDATE history SET exit_status = ?, created_at = ? WHERE id = ?",
                    arguments: [exitStatus, now(), last[0] as Int64])
            } else {
                try db.execute(
                    sql: "INSERT INTO history (line, exit_status, created_at) VALUES (?, ?, ?)",
                    arguments: [stored, exitStatus, now()])
            }
        }
    }

    /// The newest `limit` entries, oldest first; only lines containing `search` when given.
    public func history(limit: Int, search: String? = nil) throws -> [HistoryEntry] {
        try read { db in
            var sql = "SELECT id, line, exit_status, created_at FROM history"
            var args: StatementArguments = []
            if let search, !search.isEmpty {
                sql += " WHERE instr(line, ?) > 0"
                _ = args.append(contentsOf: [search])
            }
            sql += " ORDER BY id DESC LIMIT ?"
            _ = args.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: args)
                .map { HistoryEntry(id: $0[0], line: $0[1], exitStatus: $0[2], createdAt: $0[3]) }
                .reversed()
        }
    }

    // MARK: Logs

    public func appendLog(taskID: Int64, kind: String, message: String) throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO task_logs (task_id, kind, message, created_at) VALUES (?, ?, ?, ?)",
                arguments: [taskID, kind, message, now()])
        }
    }

    /// Calls `body` with each log entry of a task after row `after`, oldest first, as rows are read.
    public func forEachLog(taskID: Int64, after: Int64 = 0, _ body: (TaskLogEntry) throws -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, task_id, kind, message, created_at FROM task_logs WHERE task_id = ? AND id > ? ORDER BY id",
                arguments: [taskID, after])
            while let r = try rows.next() {
                try body(TaskLogEntry(id: r[0], taskID: r[1], kind: r[2], message: r[3], createdAt: r[4]))
            }
        }
    }

    public func logs(taskID: Int64, limit: Int = 100) throws -> [TaskLogEntry] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, task_id, kind, message, created_at FROM task_logs WHERE task_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [taskID, limit]
            ).map { TaskLogEntry(id: $0[0], taskID: $0[1], kind: $0[2], message: $0[3], createdAt: $0[4]) }
            .reversed()
        }
    }

    /// Number of stored hook events (all tasks, or one).
    public func hookEventCount(taskID: Int64? = nil) throws -> Int {
        try read { db in
            if let taskID {
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_events WHERE task_id = ?", arguments: [taskID]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_events") ?? 0
        }
    }
}
