import Foundation
import Processes
import Sandbox
import Synchronization
import TaskCore

/// Why a status change is worth telling someone.
public enum NotifyReason: String, Sendable {
    /// The agent waits on a person: a permission dialog, a question, a start-up screen, a budget.
    case waiting
    /// A turn ended (blocked "waiting for input"), or the task is done or failed.
    case finished

    /// The reason for a change, nil when it is not one to notify: the user's own changes never
    /// are; the agent's `blocked`, `done` and `failed` are, and so is a budget block.
    public init?(_ c: StatusChange) {
        guard c.cause != .user else { return nil }
        switch c.status {
        case .done, .failed:
            guard c.cause == .agent else { return nil }
            self = .finished
        case .blocked:
            switch BlockReason(detail: c.detail) {
            case .input, .turnFailed:
                guard c.cause == .agent else { return nil }
                self = .finished
            case .budget:
                self = .waiting
            default:
                guard c.cause == .agent else { return nil }
                self = .waiting
            }
        default:
            return nil
        }
    }
}

/// What runs after a status change this process stored commits — once per change, in the
/// process that stored it, whichever that is (a shell's live tail, a one-shot command's
/// catch-up, the start-up watchdog): notifications (the `notify_command`, and a shell's bell or
/// desktop notification) and, when a turn ended or the agent exited, the task's usage is read
/// from its transcript and its budget checked. The work runs on a queue of its own, never inside
/// the write; ``drain(timeout:)`` waits for it (a one-shot command does before it exits).
public final class TaskHooks: Sendable {
    public typealias TerminalNotifier = @Sendable (_ change: StatusChange, _ reason: NotifyReason, _ style: String) -> Void

    private let runner: TaskRunner
    private let queue = DispatchQueue(label: "task.hooks")
    private let report: Mutex<(@Sendable (String) -> Void)?>
    private let terminal = Mutex<TerminalNotifier?>(nil)
    /// notify_command processes still running.
    private let running = Mutex<Int>(0)
    private let idle = NSCondition()

    private static let installed = Mutex<[String: TaskHooks]>([:])

    init(runner: TaskRunner, report: (@Sendable (String) -> Void)?) {
        self.runner = runner
        self.report = Mutex(report)
    }

    /// The hooks of `runner`'s database in this process, installed on first call (later calls
    /// return the same). `report` receives things to tell the user (a malformed prices.json, a
    /// failed notify_command) — the latest one given is used.
    @discardableResult
    public static func install(_ runner: TaskRunner, report: (@Sendable (String) -> Void)? = nil) -> TaskHooks {
        installed.withLock { all in
            if let h = all[runner.store.path] {
                if let report { h.report.withLock { $0 = report } }
                return h
            }
            let h = TaskHooks(runner: runner, report: report)
            all[runner.store.path] = h
            runner.store.addStatusObserver { [h] change in h.changed(change) }
            return h
        }
    }

    /// Waits (at most `timeout` seconds) until every hook queued so far, and every notify command
    /// it started, has finished.
    public static func drain(timeout: Double = 15) {
        for h in installed.withLock({ Array($0.values) }) { h.drain(timeout: timeout) }
    }

    /// Rings or raises a notification on this process's terminal (the shell registers one).
    public func setTerminalNotifier(_ f: TerminalNotifier?) {
        terminal.withLock { $0 = f }
    }

    public func drain(timeout: Double = 15) {
        let deadline = Date().addingTimeInterval(timeout)
        let done = DispatchSemaphore(value: 0)
        queue.async { done.signal() }
        _ = done.wait(timeout: .now() + timeout)
        idle.lock()
        while running.withLock({ $0 }) > 0 && Date() < deadline {
            _ = idle.wait(until: deadline)
        }
        idle.unlock()
    }

    private func say(_ text: String) {
        report.withLock { $0 }?(text)
    }

    /// Called on the writer's queue after the commit: hands the work to our queue.
    private func changed(_ change: StatusChange) {
        guard change.cause != .user, [.blocked, .done, .failed].contains(change.status) else { return }
        queue.async { [self] in
            if let reason = NotifyReason(change) { notify(change, reason) }
            // A turn ended, the agent asked or exited: read what it spent, check the budget.
            guard change.cause == .agent else { return }
            let runner = self.runner
            let taskID = change.taskID
            let report: @Sendable (String) -> Void = { [self] in say($0) }
            _ = try? runBlocking {
                try await runner.updateUsage(taskID: taskID, report: report)
                if change.status == .blocked { await runner.enforceBudget(taskID: taskID) }
            }
        }
    }

    // MARK: - Notifications

    func notify(_ change: StatusChange, _ reason: NotifyReason) {
        let on = runner.setting("notify_on")
        guard on == "all" || on == reason.rawValue else { return }
        let style = runner.setting("notify")
        if style != "off", let f = terminal.withLock({ $0 }) { f(change, reason, style) }
        let command = runner.setting("notify_command")
        if !command.trimmingCharacters(in: .whitespaces).isEmpty { runCommand(command, change: change, reason: reason) }
    }

    /// Seconds a notify command may run before it is killed (`TASK_NOTIFY_TIMEOUT` overrides 10).
    var commandTimeout: Double {
        runner.environment["TASK_NOTIFY_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 10
    }

    /// Runs `/bin/sh -c <command>` in the background with the change in its environment (never in
    /// its text). A failure or a hang (killed after the timeout) is logged on the task as `error`.
    func runCommand(_ command: String, change: StatusChange, reason: NotifyReason) {
        var env = runner.environment
        env["TASK_ID"] = String(change.taskID)
        env["TASK_STATUS"] = change.status.rawValue
        env["TASK_TITLE"] = change.title
        env["TASK_DETAIL"] = change.detail ?? ""
        env["TASK_REASON"] = reason.rawValue
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: "/bin/sh", argv: ["/bin/sh", "-c", command], environment: env, cwd: nil,
                stdin: .null, stdout: .null, stderr: .descriptor(fds[1]), newProcessGroup: true)
        } catch {
            close(fds[0])
            close(fds[1])
            log(change.taskID, "notify_command could not start: \(error)")
            return
        }
        running.withLock { $0 += 1 }
        let timeout = commandTimeout
        let timedOut = Atomic<Bool>(false)
        let exited = Atomic<Bool>(false)
        let readFD = fds[0]
        let store = runner.store
        Thread { [self] in
            // Its stderr (the last 2 KiB, for the log), read on a thread of its own so a
            // grandchild keeping the pipe open never holds the wait.
            let collected = Mutex<[UInt8]>([])
            let readDone = DispatchSemaphore(value: 0)
            Thread {
                var local = [UInt8]()
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    local.append(contentsOf: buf[..<n])
                    if local.count > 2048 { local.removeFirst(local.count - 2048) }
                }
                close(readFD)
                collected.withLock { $0 = local }
                readDone.signal()
            }.start()
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                guard !exited.load(ordering: .relaxed) else { return }
                timedOut.store(true, ordering: .relaxed)
                child.signal(SIGKILL)
            }
            let status = child.waitForExit()
            exited.store(true, ordering: .relaxed)
            _ = readDone.wait(timeout: .now() + 1)
            let tail = collected.withLock { $0 }
            let stderr = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if timedOut.load(ordering: .relaxed) {
                try? store.appendLog(
                    taskID: change.taskID, kind: "error",
                    message: "notify_command was killed after \(Self.seconds(timeout)) s (it did not finish)")
                say("task: notify_command for #\(change.taskID) was killed after \(Self.seconds(timeout)) s")
            } else if status != 0 {
                let why = "notify_command exited with status \(status)" + (stderr.isEmpty ? "" : ": " + stderr)
                try? store.appendLog(taskID: change.taskID, kind: "error", message: why)
                say("task: #\(change.taskID) " + why)
            }
            idle.lock()
            running.withLock { $0 -= 1 }
            idle.broadcast()
            idle.unlock()
        }.start()
    }

    private func log(_ taskID: Int64, _ message: String) {
        try? runner.store.appendLog(taskID: taskID, kind: "error", message: message)
        say("task: #\(taskID) " + message)
    }

    static func seconds(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
