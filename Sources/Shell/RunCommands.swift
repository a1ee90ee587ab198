import ArgumentParser
import Foundation
import Runner
import Sandbox
import TaskCore

// Commands that run tasks and talk to their agents (the local sandbox).

/// The `<id>` argument of every command about one task, completed with ids and titles.
struct TaskArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The task.", valueName: "id"), completion: .custom(Completions.taskIDs))
    var text: String

    /// The id as a number; a usage error for anything else.
    func id() throws -> Int64 { try parseTaskID(text) }
}

struct Run: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "run", 
        abstract: "Start a task's agent (queued while max_running agents run).",
        discussion: """
            Tasks run on the sprite when a Sprites token is set (SPRITES_TOKEN or sprite token), \
            else on this machine; --sandbox (or task --local) chooses. On the sprite the project's \
            current commit is sent as a git bundle; pull brings the task's branch back.
            """)

    @OptionGroup var task: TaskArgument

    @Option(help: ArgumentHelp("Where to run: local or sprite (default: sprite when a token is set).", valueName: "where"),
            completion: .list(["local", "sprite"]))
    var sandbox: String?

    @Flag(help: "Bring the task's branch back into the repository when it ends (sprite).")
    var pull = false

    func validate() throws {
        if let s = sandbox, SiteKind(rawValue: s) == nil {
            throw ValidationError("--sandbox takes local or sprite, not '\(s)'")
        }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let kind = sandbox.flatMap(SiteKind.init(rawValue:)) ?? ctx.defaultSandbox()
        let pullWhenDone = pull
        if pullWhenDone && kind == .local { throw TaskError.usage("--pull is for sprite runs; a local run's branch is in the repository already") }
        try RunReport.launch(taskID, sandbox: kind, pullWhenDone: pullWhenDone, runner: runner, ctx: ctx)
    }
}

enum RunReport {
    /// Starts task `id` on `sandbox` with its progress shown, then reports what became of it.
    static func launch(_ id: Int64, sandbox kind: SiteKind, pullWhenDone: Bool = false, runner: TaskRunner, ctx: CommandContext) throws {
        let progress = progress(ctx)
        prepare(runner, ctx)
        let outcome = try runBlocking {
            try await runner.run(taskID: id, sandbox: kind, pullWhenDone: pullWhenDone, progress: progress)
        }
        report(id, outcome, runner: runner, ctx: ctx)
    }

    /// What became of a launch (``describe(_:_:ctx:)``, then `suffix`), the launch's notes, and
    /// outside the shell whether the agent got past its start-up (``awaitStart(_:_:runner:ctx:)``).
    static func report(_ id: Int64, _ outcome: TaskRunner.LaunchOutcome, suffix: String = "", runner: TaskRunner, ctx: CommandContext) {
        ctx.out.line(describe(id, outcome, ctx: ctx) + suffix)
        if case .started(_, _, let notes) = outcome {
            for note in notes { ctx.out.line("  " + note) }
        }
        awaitStart(id, outcome, runner: runner, ctx: ctx)
    }

    /// Prints a launch's progress (provisioning, what was sent) dimmed, as it comes.
    static func progress(_ ctx: CommandContext) -> @Sendable (String) -> Void {
        { line in
            ctx.out.line(ctx.style.dim(line))
            ctx.out.flush()
        }
    }

    /// Outside the shell a launch on a sprite waits there for the agent's first hook, in the same
    /// command (``awaitStart(_:_:runner:ctx:)`` then has it at once).
    static func prepare(_ runner: TaskRunner, _ ctx: CommandContext) {
        if !ctx.interactive { runner.firstHookWait.request() }
    }

    /// Outside the shell (whose feed shows it), a started task is watched until its agent's first
    /// hook or `start_timeout`: an agent held at a start-up screen is said at once, with the screen's line.
    static func awaitStart(_ id: Int64, _ outcome: TaskRunner.LaunchOutcome, runner: TaskRunner, ctx: CommandContext) {
        guard case .started = outcome, !ctx.interactive else { return }
        ctx.out.flush()
        guard let task = try? runBlocking({ try await runner.awaitStart(taskID: id) }),
              task.status == .blocked, BlockReason(detail: task.statusDetail) == .startup else { return }
        ctx.out.line(ctx.style.yellow("#\(id) ⏸ \(task.statusDetail ?? "")") + ctx.style.dim(" · keys \(id) Enter · attach \(id)"))
    }

    /// What became of a launch: where it started (the sprite's name), or why it waits.
    static func describe(_ id: Int64, _ outcome: TaskRunner.LaunchOutcome, ctx: CommandContext) -> String {
        let task = try? ctx.store().task(id: id)
        let onSprite = task?.sandbox == SiteKind.sprite.rawValue
        switch outcome {
        case .started(let pane, let workdir, _):
            let place = onSprite ? " on the sprite \(task?.site ?? "")" : ""
            return "#\(id) started\(place) in \(workdir) (pane \(pane))"
        case .queued(let n):
            // Why it waits: a slot, a place on a sprite of the pool, or a sprite (the account's limit).
            let place = onSprite ? " on the sprite" : ""
            if let detail = task?.statusDetail, detail.hasPrefix("waiting for a") && !detail.hasPrefix("waiting for a slot") {
                return "#\(id) queued\(place) (\(n) waiting; \(detail))"
            }
            return "#\(id) queued\(place) (\(n) waiting; max_running reached)"
        }
    }
}

struct Pull: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "pull",
        abstract: "Bring a sprite task's branch back into its project's repository, listing the commits it brought.")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let (branch, commits) = try runBlocking { try await runner.pull(taskID: taskID) }
        guard !commits.isEmpty else {
            ctx.out.line("#\(taskID) \(branch): no new commits")
            return
        }
        ctx.out.line("#\(taskID) pulled \(branch): \(commits.count) new commit\(commits.count == 1 ? "" : "s")")
        for c in commits { ctx.out.line("  " + c) }
    }
}

struct Send: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "send", 
        abstract: "Type text into a task's agent and wait until it is submitted.")

    @OptionGroup var task: TaskArgument

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("What to say (several words are joined by spaces).", valueName: "text"))
    var text: [String] = []

    @Option(help: "Seconds to wait for the agent to take it.")
    var timeout: Double = 10

    func validate() throws {
        if text.isEmpty { throw ValidationError("send needs text: send <id> <text>") }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let message = text.joined(separator: " ")
        let wait = timeout
        switch try runBlocking({ try await runner.send(taskID: taskID, text: message, timeout: wait) }) {
        case .confirmed:
            ctx.out.line("#\(taskID) ← sent")
        case .unconfirmed:
            throw TaskError.failed(
                "#\(taskID): typed, but the agent did not take it within \(Int(wait)) s (a dialog open? look with: attach \(taskID))")
        }
    }
}

struct Keys: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "keys", 
        abstract: "Press keys in a task's agent pane (Escape, Enter, 1, C-c, Up…), for prompts and menus.")

    @OptionGroup var task: TaskArgument

    @Argument(help: ArgumentHelp("tmux key names.", valueName: "key"))
    var keys: [String] = []

    func validate() throws {
        if keys.isEmpty { throw ValidationError("keys needs at least one key, e.g. keys 3 Escape") }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let k = keys
        if let note = try runBlocking({ try await runner.pressKeys(taskID: taskID, keys: k) }) {
            ctx.out.line(ctx.style.dim("#\(taskID) is not at a permission dialog; \(note)"))
        }
    }
}

struct Approve: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "approve",
        abstract: "Answer Yes to the permission dialog open in a task's agent.")

    @OptionGroup var task: TaskArgument

    @Flag(help: "Take the dialog's \"don't ask again\" choice.")
    var always = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let answer: TaskRunner.PermissionAnswer = always ? .approveAlways : .approve
        let tool = try runBlocking { try await runner.answerPermission(taskID: taskID, answer) }
        ctx.out.line("#\(taskID) ✓ approved" + (tool.map { " \($0)" } ?? "") + (always ? " (don't ask again)" : ""))
    }
}

struct Deny: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "deny",
        abstract: "Answer No to the permission dialog open in a task's agent (it goes on without the tool).")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let tool = try runBlocking { try await runner.answerPermission(taskID: taskID, .deny) }
        ctx.out.line("#\(taskID) ✗ denied" + (tool.map { " \($0)" } ?? ""))
    }
}

struct Stop: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Interrupt a task's agent and end it (cancelled).")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        try runBlocking { try await runner.stop(taskID: taskID) }
        ctx.out.line("#\(taskID) cancelled")
    }
}

struct Done: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "done", abstract: "Close a task as done, ending its agent session.")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        try runBlocking { try await runner.finish(taskID: taskID) }
        ctx.out.line("#\(taskID) done")
    }
}

struct Rewind: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewind",
        abstract: "Take a finished or blocked task back to where it started (its dropped commits are kept).")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let r = try runBlocking { try await runner.rewind(taskID: taskID) }
        ctx.out.line("#\(taskID) rewound to \(r.startCommit.prefix(7)), where it started; it is in the backlog again")
        for kept in r.kept { ctx.out.line("  kept \(kept)" + (r.place == "here" ? "" : " \(r.place)")) }
        for note in r.notes { ctx.out.line("  " + note) }
    }
}

struct Retry: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "retry", 
        abstract: "Run a finished task again, resuming its agent session when it can.")

    @OptionGroup var task: TaskArgument

    @Option(name: [.short, .long], help: "What to tell the agent.")
    var feedback: String?

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let fb = feedback
        RunReport.prepare(runner, ctx)
        let (outcome, resumed) = try runBlocking { try await runner.retry(taskID: taskID, feedback: fb) }
        RunReport.report(taskID, outcome, suffix: resumed ? " — resuming its session" : " — fresh session", runner: runner, ctx: ctx)
    }
}

struct Events: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Show a task's hook events.")

    @OptionGroup var task: TaskArgument

    @Flag(help: "Print JSON lines: task, event, tool, summary, raw hook JSON, appended and stored times.")
    var json = false

    @Flag(help: "Keep printing new events until Ctrl-C.")
    var follow = false

    @Option(help: ArgumentHelp("At most N events, oldest first.", valueName: "N"))
    var limit: String?

    @Option(help: ArgumentHelp("Only the newest N events.", valueName: "N"))
    var tail: String?

    @Option(help: ArgumentHelp("Only events stored since TIME (2026-12-03T08:00:00Z, 2026-12-03, or 10m, 2h, 3d ago).", valueName: "time"))
    var since: String?

    func validate() throws {
        if limit != nil && tail != nil { throw ValidationError("give --limit or --tail, not both") }
        _ = try CountOption.parse(limit, "--limit")
        _ = try CountOption.parse(tail, "--tail")
        _ = try TimeOption.parse(since)
    }

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        _ = try ctx.store().task(id: taskID)
        ctx.catchUpRemote(taskID: taskID)
        var filter = EventFilter(
            taskID: taskID, since: try TimeOption.parse(since), limit: try CountOption.parse(limit, "--limit"),
            tail: try CountOption.parse(tail, "--tail"))
        var writer = EventWriter { ctx.out.write(buffer: $0) }
        defer { writer.release() }
        let json = json
        let style = ctx.style
        let store = try ctx.store()
        var last: Int64 = 0
        let printAll: (EventFilter) throws -> Void = { f in
            try store.forEachRawEvent(f) { e in
                if json { writer.json(e) } else { writer.text(e, style: style) }
                last = e.id
            }
            writer.flush()
            ctx.out.flush()
        }
        try printAll(filter)
        guard follow else { return }
        try FollowLoop.poll(ctx) {
            try runBlocking { try await runner.catchUp(taskID: taskID) }
            filter = EventFilter(taskID: taskID, afterID: last)
            try printAll(filter)
        }
    }
}

/// A count option (`--limit`, `--tail`): a whole number above 0.
enum CountOption {
    static func parse(_ text: String?, _ name: String) throws -> Int? {
        guard let text else { return nil }
        guard let n = Int(text), n > 0 else { throw ValidationError("\(name) takes a whole number above 0, not '\(text)'") }
        return n
    }
}

/// A time option (`--since`): RFC 3339 (`2026-12-03T08:00:00Z`), a date (`2026-12-03`, UTC), or an
/// age (`90s`, `10m`, `2h`, `3d`).
enum TimeOption {
    static func parse(_ text: String?, name: String = "--since", now: Double = Date().timeIntervalSince1970) throws -> Double? {
        guard let text else { return nil }
        if let unit = text.last, let n = Double(text.dropLast()), n >= 0 {
            let scale: Double? = switch unit {
            case "s": 1
            case "m": 60
            case "h": 3600
            case "d": 86400
            default: nil
            }
            if let scale { return now - n * scale }
        }
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        for f in [full, plain, day] {
            if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        }
        throw ValidationError("\(name) takes a time such as 2026-12-03T08:00:00Z, a date such as 2026-12-03, or an age such as 10m, 2h or 3d; not '\(text)'")
    }
}

struct Logs: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show a task's log: launches, status changes, feedback.")

    @OptionGroup var task: TaskArgument

    @Flag(help: "Keep printing new entries until Ctrl-C.")
    var follow = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        var last: Int64 = 0
        let show: () throws -> Void = {
            try ctx.store().forEachLog(taskID: taskID, after: last) { l in
                ctx.out.line(ctx.style.dim(formatTimestamp(l.createdAt)) + " " + l.kind + ": "
                    + l.message.replacingOccurrences(of: "\n", with: "\n    "))
                last = l.id
            }
            ctx.out.flush()
        }
        _ = try ctx.store().task(id: taskID)
        ctx.catchUpRemote(taskID: taskID)
        try show()
        guard follow else { return }
        try FollowLoop.poll(ctx) {
            try runBlocking { try await runner.catchUp(taskID: taskID) }
            try show()
        }
    }
}

/// Repeats `body` until Ctrl-C (SIGINT) or, in a script, until stdout goes away.
enum FollowLoop {
    static func poll(_ ctx: CommandContext, interval: Double = 0.1, _ body: () throws -> Void) throws {
        Interrupt.reset()
        while !Interrupt.pending() {
            try body()
            Thread.sleep(forTimeInterval: interval)
        }
        // The terminal echoed ^C; the prompt goes on the next line.
        if ctx.interactive { ctx.out.line() }
    }
}
