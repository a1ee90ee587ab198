import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Who made a status change: the agent (its hooks, its exit, a start-up screen it sits at), the
/// user (run, stop, done, retry…), or task itself (the queue, a failed start).
public enum ChangeCause: String, Sendable {
    case agent, user, system
}

/// One status change as stored: a `status` row of `task_logs`.
public struct StatusChange: Sendable, Equatable {
    /// The log row's id: changes are shown in this order.
    public var id: Int64
    public var taskID: Int64
    public var title: String
    public var from: TaskStatus?
    public var status: TaskStatus
    public var detail: String?
    public var exitCode: Int?
    public var cause: ChangeCause
    public var at: Double
}

/// Whether a task got a slot to run in.
public enum SlotClaim: Equatable, Sendable {
    /// The task is `processing` now and holds a slot on `site`; start its agent there.
    case claimed(site: String)
    /// Every slot is taken: the task is `queued`, at this place in the queue.
    case queued(position: Int)
}

extension TaskStore {
    /// Moves `task` to `status` inside the caller's transaction, and records the change as one
    /// `status` log row (`old → new (detail)`), which every shell shows. The one place a task's
    /// status is written.
    static func changeStatus(
        _ db: Database, _ task: TaskRecord, to status: TaskStatus, detail: String?, exitCode: Int? = nil,
        cause: ChangeCause
    ) throws {
        let time = now()
        try db.execute(
            sql: """
                UPDATE tasks SET status = ?, status_detail = ?, updated_at = ?,
                    started_at = CASE WHEN ? AND started_at IS NULL THEN ? ELSE started_at END,
                    finished_at = CASE WHEN ? THEN ? ELSE NULL END,
                    exit_code = COALESCE(?, exit_code)
                WHERE id = ?
                """,
            arguments: [
                status.rawValue, detail, time, status != .queued && status != .backlog, time, status.isFinished, time,
                exitCode, task.id,
            ])
        guard status != task.status || detail != task.statusDetail else { return }
        let message = "\(task.status.rawValue) → \(status.rawValue)" + (detail.map { " (\($0))" } ?? "")
        try db.execute(
            sql: """
                INSERT INTO task_logs (task_id, kind, message, created_at, status, detail, cause)
                VALUES (?, 'status', ?, ?, ?, ?, ?)
                """,
            arguments: [task.id, message, time, status.rawValue, detail, cause.rawValue])
        // Observers hear of the change once its transaction commits (never inside it, never for
        // a rolled-back one), in the process that stored it.
        if StatusObservers.active {
            let change = StatusChange(
                id: db.lastInsertedRowID, taskID: task.id, title: task.title, from: task.status, status: status, detail: detail,
                exitCode: status.isFinished ? (exitCode ?? task.exitCode) : nil, cause: cause, at: time)
            let database = Self.databasePath(db)
            db.afterNextTransaction(onCommit: { _ in StatusObservers.notify(change, database: database) })
        }
    }

    static func databasePath(_ db: Database) -> String {
        guard let name = sqlite3_db_filename(db.sqliteConnection, "main") else { return "" }
        return String(cString: name)
    }

    /// Calls `observer` after each status change this process stores in this database commits.
    /// It runs on the database's writer queue: it must not touch the store itself (hand work to
    /// another queue). Returns a token for ``removeStatusObserver(_:)``.
    @discardableResult
    public func addStatusObserver(_ observer: @escaping @Sendable (StatusChange) -> Void) -> Int {
        StatusObservers.add(database: Self.canonical(path), observer)
    }

    public func removeStatusObserver(_ token: Int) {
        StatusObservers.remove(token)
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// Moves a task to `status`, setting started/finished times as the status implies, and logs the change.
    @discardableResult
    public func setStatus(
        id: Int64, _ status: TaskStatus, detail: String? = nil, exitCode: Int? = nil, cause: ChangeCause = .user
    ) throws -> TaskRecord {
        try write { db in
            let task = try Self.fetchTask(db, id: id)
            try Self.changeStatus(db, task, to: status, detail: detail, exitCode: exitCode, cause: cause)
            return try Self.fetchTask(db, id: id)
        }
    }

    /// Sets a running task's status detail only if it is still `status` with no newer event than
    /// `lastEventID` (a check and a write in one transaction, so an event stored meanwhile wins).
    /// Returns whether it changed anything.
    @discardableResult
    public func setStatusIfQuiet(
        id: Int64, expecting: Set<TaskStatus>, lastEventID: Int64?, to status: TaskStatus, detail: String, cause: ChangeCause
    ) throws -> Bool {
        try write { db in
            let task = try Self.fetchTask(db, id: id)
            guard expecting.contains(task.status), try Self.lastEventID(db, taskID: id) == lastEventID else { return false }
            guard task.status != status || task.statusDetail != detail else { return false }
            try Self.changeStatus(db, task, to: status, detail: detail, cause: cause)
            return true
        }
    }

    /// Claims a slot for `id` in one `BEGIN IMMEDIATE` transaction — the count of running agents
    /// and the claim cannot be split by another process — on the least busy site of `places`, and
    /// records where it will run: the task becomes `processing` ("starting"), or `queued` when
    /// `limit` agents hold slots or every site of `places` is full.
    public func claimSlot(id: Int64, limit: Int, places: Places, cause: ChangeCause = .user) throws -> SlotClaim {
        try write { db in
            let task = try Self.fetchTask(db, id: id)
            try db.execute(sql: "UPDATE tasks SET sandbox = ?, pane_id = NULL WHERE id = ?", arguments: [places.sandbox, id])
            let site = try Self.runningCount(db) < limit ? try Self.freeSite(db, places) : nil
            guard let site else {
                let detail = try Self.runningCount(db) >= limit ? "waiting for a slot (max_running \(limit))" : places.fullDetail
                try Self.changeStatus(db, task, to: .queued, detail: detail, cause: cause)
                return .queued(position: try Self.queuePosition(db, id: id))
            }
            try db.execute(sql: "UPDATE tasks SET site = ? WHERE id = ?", arguments: [site, id])
            try Self.changeStatus(db, task, to: .processing, detail: "starting", cause: cause)
            return .claimed(site: site)
        }
    }

    /// The least busy site of `places` with room for one more agent (the first on a tie), in the
    /// caller's transaction.
    static func freeSite(_ db: Database, _ places: Places) throws -> String? {
        var busy: [String: Int] = [:]
        let rows = try Row.fetchAll(
            db, sql: "SELECT site, COUNT(*) FROM tasks WHERE sandbox = ? AND status IN ('processing','blocked') GROUP BY site",
            arguments: [places.sandbox])
        for row in rows { if let site: String = row[0] { busy[site] = row[1] } }
        return places.sites.enumerated()
            .filter { busy[$0.element, default: 0] < places.perSite }
            .min { (busy[$0.element, default: 0], $0.offset) < (busy[$1.element, default: 0], $1.offset) }?.element
    }

    static func queuePosition(_ db: Database, id: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE status = 'queued' AND id <= ?", arguments: [id]) ?? 1
    }

    /// Puts `id` back in the queue with `detail`, not to be tried before `notBefore` (a site that
    /// will take it later); returns its place in the queue.
    public func requeue(id: Int64, sandbox: String, detail: String, notBefore: Double) throws -> Int {
        try write { db in
            let task = try Self.fetchTask(db, id: id)
            try db.execute(sql: "UPDATE tasks SET sandbox = ?, pane_id = NULL, not_before = ? WHERE id = ?",
                           arguments: [sandbox, notBefore, id])
            try Self.changeStatus(db, task, to: .queued, detail: detail, cause: .system)
            return try Self.queuePosition(db, id: id)
        }
    }

    /// Whether a queued task may be tried now while fewer than `limit` agents run (two reads).
    public func hasStartableQueued(limit: Int) throws -> Bool {
        try read { db in
            guard try Self.runningCount(db) < limit else { return false }
            return try Self.startableQueued(db) != nil
        }
    }

    static func startableQueued(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db, sql: "SELECT id FROM tasks WHERE status = 'queued' AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 1",
            arguments: [now()])
    }

    /// Takes the oldest queued task that has a place into a free slot, in one `BEGIN IMMEDIATE`
    /// transaction: of several processes that see a slot free up, exactly one gets each queued
    /// task. `places` says where a task may go; a task whose every site is full waits, and the
    /// next one (bound elsewhere) may go first.
    public func claimNextQueued(limit: Int, places: (TaskRecord) -> Places) throws -> TaskRecord? {
        try write { db in
            guard try Self.runningCount(db) < limit else { return nil }
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM tasks WHERE status = 'queued' AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT 200",
                arguments: [now()])
            for id in ids {
                let task = try Self.fetchTask(db, id: id)
                guard let site = try Self.freeSite(db, places(task)) else { continue }
                try db.execute(sql: "UPDATE tasks SET not_before = NULL, site = ? WHERE id = ?", arguments: [site, id])
                try Self.changeStatus(db, task, to: .processing, detail: "starting", cause: .system)
                return try Self.fetchTask(db, id: id)
            }
            return nil
        }
    }

    static func runningCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE status IN ('processing','blocked')") ?? 0
    }

    static func lastEventID(_ db: Database, taskID: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM hook_events WHERE task_id = ?", arguments: [taskID])
    }

    /// The id of a task's newest event (one indexed look-up), nil when it has none.
    public func lastEventID(taskID: Int64) throws -> Int64? {
        try read { db in try Self.lastEventID(db, taskID: taskID) }
    }

    /// The newest event of a task, nil when it has none.
    public func lastEvent(taskID: Int64) throws -> StoredEvent? {
        guard let id = try lastEventID(taskID: taskID) else { return nil }
        return try events(taskID: taskID, afterID: id - 1, limit: 1).first
    }

    /// Status changes stored after log row `afterID`, oldest first.
    public func statusChanges(after afterID: Int64, limit: Int = 500) throws -> [StatusChange] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.id, l.task_id, t.title, l.message, l.status, l.detail, t.exit_code, l.cause, l.created_at
                    FROM task_logs l JOIN tasks t ON t.id = l.task_id
                    WHERE l.kind = 'status' AND l.id > ? AND l.status IS NOT NULL ORDER BY l.id LIMIT ?
                    """,
                arguments: [afterID, limit]
            ).map { row in
                let message: String = row[3]
                let from = message.split(separator: " ").first.flatMap { TaskStatus(rawValue: String($0)) }
                let status = TaskStatus(rawValue: row[4]) ?? .backlog
                return StatusChange(
                    id: row[0], taskID: row[1], title: row[2], from: from, status: status, detail: row[5],
                    exitCode: status.isFinished ? row[6] : nil, cause: ChangeCause(rawValue: row[7] ?? "") ?? .system,
                    at: row[8])
            }
        }
    }

    /// Where the stream of events and status changes stands now: the newest event id and the
    /// newest log row id (two look-ups of a rowid maximum).
    public func feedCursor() throws -> (event: Int64, log: Int64) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT (SELECT MAX(id) FROM hook_events), (SELECT MAX(id) FROM task_logs)")
            return ((row?[0] as Int64?) ?? 0, (row?[1] as Int64?) ?? 0)
        }
    }

    /// `PRAGMA quick_check`: "ok", or what is damaged.
    public func quickCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "; ") }
    }
}

/// The process's status observers, by database file.
enum StatusObservers {
    private struct Entry {
        var token: Int
        var database: String
        var observer: @Sendable (StatusChange) -> Void
    }

    private static let entries = Mutex<(next: Int, list: [Entry])>((1, []))
    private static let count = Atomic<Int>(0)

    static var active: Bool { count.load(ordering: .relaxed) > 0 }

    static func add(database: String, _ observer: @escaping @Sendable (StatusChange) -> Void) -> Int {
        entries.withLock { e in
            let token = e.next
            e.next += 1
            e.list.append(Entry(token: token, database: database, observer: observer))
            count.store(e.list.count, ordering: .relaxed)
            return token
        }
    }

    static func remove(_ token: Int) {
        entries.withLock { e in
            e.list.removeAll { $0.token == token }
            count.store(e.list.count, ordering: .relaxed)
        }
    }

    static func notify(_ change: StatusChange, database: String) {
        let canonical = TaskStore.canonical(database)
        let observers = entries.withLock { e in e.list.filter { $0.database == canonical }.map(\.observer) }
        for o in observers { o(change) }
    }
}

extension TaskStore {
    /// Running tasks with a pane whose launch is at least as old as `before`: the start-up
    /// watchdog's candidates. Every command runs this: the query is written so that the planner
    /// can only use the partial index of tasks with panes (a status condition made it scan the
    /// status index, 50 ms over 100 000 tasks).
    public func launchedTasks(before: Double) throws -> [TaskRecord] {
        try tasks(where: "t.pane_id IS NOT NULL AND t.started_at <= ?", [before])
            .filter { $0.status == .processing || $0.status == .blocked }
    }

    /// Tasks of site `site` whose agent runs by the store (processing or blocked, with a pane).
    /// Every command runs this too, so likewise only through the partial index of tasks with panes.
    public func tasksWithPanes(site: String) throws -> [TaskRecord] {
        try tasks(where: "t.pane_id IS NOT NULL AND t.site = ?", [site])
            .filter { $0.status == .processing || $0.status == .blocked }
    }

    /// Tasks that claimed a slot at or before `before` and never got a pane (their launch was cut short).
    public func stalledLaunches(before: Double) throws -> [TaskRecord] {
        try tasks(where: "t.status_detail = 'starting' AND t.updated_at <= ?", [before])
            .filter { $0.status == .processing && $0.paneID == nil }
    }

    /// The tasks (with their project's name) matching `condition`, a WHERE clause over `tasks t`.
    func tasks(where condition: String, _ arguments: StatementArguments) throws -> [TaskRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.taskColumns) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id WHERE \(condition)",
                arguments: arguments
            ).map(Self.task(from:))
        }
    }
}
