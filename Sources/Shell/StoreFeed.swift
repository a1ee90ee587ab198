import Foundation
import Runner
import Sandbox
import Synchronization
import TaskCore

/// What the shell shows above the prompt comes from the store, not from what this process happened
/// to ingest: every hook event and every status change stored after the shell started — by its own
/// live tail, another shell, or a one-shot command's catch-up — is printed once, in order.
///
/// A thread polls the store's two cursors (the newest event id and log row id: two rowid look-ups)
/// every 10 ms, and at once when this process stored something (``kick()``); only when one moved
/// does it read the new rows. It also runs the start-up watchdog once a second.
final class StoreFeed: Sendable {
    private let runner: TaskRunner
    private let style: Style
    private let followed: FollowedTask
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// How often the store is looked at when nothing kicked the feed.
    static let interval = DispatchTimeInterval.milliseconds(10)

    init(runner: TaskRunner, style: Style, followed: FollowedTask) {
        self.runner = runner
        self.style = style
        self.followed = followed
    }

    /// Starts showing what is stored from now on.
    func start() {
        let store = runner.store
        let start = (try? store.feedCursor()) ?? (event: 0, log: 0)
        Thread { [self] in
            var cursor = start
            var lastWatch = Date()
            var failing = false
            while !stopped.load(ordering: .relaxed) {
                _ = wake.wait(timeout: .now() + Self.interval)
                do {
                    let now = try store.feedCursor()
                    if now.event > cursor.event || now.log > cursor.log {
                        cursor = try show(after: cursor, upTo: now)
                    }
                    if failing {
                        failing = false
                        Console.shared.printAbove(style.dim("task: the store can be read again"))
                    }
                } catch {
                    if !failing { Console.shared.printAbove("task: cannot read the store: \(error); retrying") }
                    failing = true
                }
                if Date().timeIntervalSince(lastWatch) >= 1 {
                    lastWatch = Date()
                    let runner = self.runner
                    _ = try? runBlocking { await runner.watchStartups() }
                }
            }
            finished.signal()
        }.start()
    }

    /// Looks at the store now (this process stored something).
    func kick() { wake.signal() }

    /// Stops the thread (and waits for it, briefly).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
        _ = finished.wait(timeout: .now() + 1)
    }

    /// Prints the events and changes stored after `cursor`, merged by time; returns the new cursor.
    private func show(after cursor: (event: Int64, log: Int64), upTo now: (event: Int64, log: Int64)) throws -> (event: Int64, log: Int64) {
        let store = runner.store
        var cursor = cursor
        let verbose = ((try? store.setting("verbose")) ?? nil) != "off"
        let only = followed.get()
        while cursor.event < now.event || cursor.log < now.log {
            let events = cursor.event < now.event ? try store.events(taskID: nil, afterID: cursor.event, limit: 500) : []
            let changes = cursor.log < now.log ? try store.statusChanges(after: cursor.log, limit: 500) : []
            var lines: [(at: Double, text: String)] = []
            for e in events where e.id <= now.event {
                cursor.event = e.id
                guard verbose, only == nil || e.taskID == only,
                      let line = EventLine.activity(event: e.event, toolName: e.toolName, summary: e.summary, id: "#\(e.taskID.map(String.init) ?? "?")")
                else { continue }
                lines.append((e.receivedAt, style.dim(line)))
            }
            for c in changes where c.id <= now.log {
                cursor.log = c.id
                guard only == nil || c.taskID == only, let line = ChangeLine.render(c, verbose: verbose, style: style) else { continue }
                lines.append((c.at, line))
            }
            if events.count < 500 { cursor.event = max(cursor.event, now.event) }
            if changes.count < 500 { cursor.log = max(cursor.log, now.log) }
            let ordered = lines.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            if !ordered.isEmpty { Console.shared.printAbove(ordered.map(\.element.text).joined(separator: "\n")) }
        }
        return cursor
    }
}

/// One line per status change: `#3 ⏸ waiting for permission for Bash · approve 3 · deny 3 · attach 3`.
enum ChangeLine {
    static func render(_ c: StatusChange, verbose: Bool, style: Style) -> String? {
        let id = "#\(c.taskID)"
        switch c.status {
        case .done:
            let why = c.exitCode.map { "(exit \($0))" } ?? c.detail.map { "— \($0)" } ?? ""
            return style.green("\(id) ✓ done \(why)".trimmingCharacters(in: .whitespaces))
        case .failed:
            let why = c.cause == .agent && c.exitCode != nil ? "(exit \(c.exitCode!))" : c.detail.map { "— \($0)" } ?? ""
            return style.red("\(id) ✗ failed \(why)".trimmingCharacters(in: .whitespaces))
        case .blocked:
            return style.yellow("\(id) ⏸ \(c.detail ?? "blocked")") + style.dim(hint(c))
        case .cancelled:
            return style.red("\(id) ■ cancelled" + (c.detail.map { " — \($0)" } ?? ""))
        case .queued:
            return style.dim("\(id) … queued" + (c.detail.map { " — \($0)" } ?? ""))
        case .processing:
            if c.detail == "starting" || c.from == .queued && c.cause == .system { return style.dim("\(id) ▶ starting") }
            return verbose ? nil : "\(id) ▶ working"
        case .backlog:
            return c.detail.map { style.dim("\(id) · backlog — \($0)") }
        }
    }

    /// What to type next, for a task waiting on you.
    static func hint(_ c: StatusChange) -> String {
        let n = c.taskID
        switch BlockReason(detail: c.detail) {
        case .permission: return " · approve \(n) · deny \(n) · attach \(n)"
        case .startup: return " · keys \(n) Enter · attach \(n)"
        case .input, .turnFailed: return " · send \(n) <text> · attach \(n)"
        default: return ""
        }
    }
}

/// The task `follow` shows (set on the command's thread, read by the feed's).
final class FollowedTask: Sendable {
    private let task = Mutex<Int64?>(nil)
    func get() -> Int64? { task.withLock { $0 } }
    func set(_ id: Int64?) { task.withLock { $0 = id } }
}
