import ArgumentParser
import Foundation
import Runner
import Sandbox
import TaskCore

struct UsageCommand: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show the tokens and cost of one task's agent, or of every task, with totals.",
        discussion: """
            Read from the agent's transcripts (where the task ran), each API message counted once, \
            priced per model (built-in prices, or $TASK_HOME/prices.json).
            """)

    @Argument(help: ArgumentHelp("The task (all tasks when omitted).", valueName: "id"), completion: .custom(Completions.taskIDs))
    var id: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: ArgumentHelp("Only messages since this time (2026-12-03T08:00:00Z, 2026-12-03, or an age: 10m, 2h, 3d).", valueName: "time"))
    var since: String?

    func validate() throws {
        _ = try TimeOption.parse(since)
        if let id { _ = try parseTaskID(id) }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let store = try ctx.store()
        let runner = try ctx.runner()
        let taskID = try id.map(parseTaskID)
        let since = try TimeOption.parse(since)
        if let taskID { _ = try store.task(id: taskID) }
        let prices = UsageView.prices(runner, ctx)
        // Read what the transcripts gained since the last look (from the stored offsets).
        let ids = try taskID.map { [$0] } ?? store.listTasks(TaskFilter(includeFinished: true)).filter { $0.startedAt != nil }.map(\.id)
        for id in ids {
            do {
                try runBlocking {
                    try await runner.updateUsage(taskID: id)
                    await runner.enforceBudget(taskID: id)
                }
            } catch {
                ctx.err.line("task: #\(id): usage not brought up to date: \(error)")
            }
        }
        let all = try store.usage(taskID: taskID, since: since, prices: prices)
        if json {
            if taskID != nil, let one = all.first {
                ctx.out.line(JSONText.render(UsageView.json(one)))
            } else {
                var total = UsageTotals()
                for u in all { total.add(u.total) }
                ctx.out.line(JSONText.render(.object(
                    [("tasks", .array(all.map(UsageView.json)))] + UsageView.totalsFields(total))))
            }
            return
        }
        let s = ctx.style
        if let one = all.first, taskID != nil {
            ctx.out.line(s.bold("#\(one.taskID) \(one.title)") + "  " + Dollars.format(one.total.cost) + s.dim("  (\(one.total.messages) message\(one.total.messages == 1 ? "" : "s"))"))
            for (model, t) in one.byModel {
                ctx.out.line("  " + Render.pad(model, 28) + UsageView.counts(t) + "  " + Dollars.format(t.cost)
                    + (prices.price(of: model) == nil ? s.yellow("  (unpriced)") : ""))
            }
            if one.byModel.count > 1 { ctx.out.line("  " + Render.pad("total", 28) + UsageView.counts(one.total)) }
            if one.skippedLines > 0 { ctx.out.line(s.dim("  \(one.skippedLines) transcript line\(one.skippedLines == 1 ? "" : "s") were not JSON and were skipped")) }
            return
        }
        if all.isEmpty {
            ctx.out.line(s.dim("no usage yet" + (since == nil ? "" : " in that time")))
            return
        }
        ctx.out.line(s.bold(Render.pad("TASK", 7) + Render.pad("MSGS", 6) + Render.pad("INPUT", 10) + Render.pad("OUTPUT", 10)
            + Render.pad("CACHE W", 11) + Render.pad("CACHE R", 12) + Render.pad("COST", 10) + "TITLE"))
        var total = UsageTotals()
        for u in all {
            total.add(u.total)
            ctx.out.line(UsageView.row("#\(u.taskID)", u.total) + Render.clip(u.title, 50)
                + (u.unpriced.isEmpty ? "" : s.yellow("  (unpriced: \(u.unpriced.joined(separator: ", ")))")))
        }
        ctx.out.line(s.bold(UsageView.row("total", total)))
    }
}

enum UsageView {
    /// The price table; a malformed prices.json is said once on stderr (with its path).
    static func prices(_ runner: TaskRunner, _ ctx: CommandContext) -> PriceTable {
        runner.prices { ctx.err.line("task: " + $0) }
    }

    static func counts(_ t: UsageTotals) -> String {
        "input \(t.input) · output \(t.output) · cache write \(t.cacheCreation) · cache read \(t.cacheRead)"
    }

    static func row(_ head: String, _ t: UsageTotals) -> String {
        Render.pad(head, 7) + Render.pad(String(t.messages), 6) + Render.pad(String(t.input), 10) + Render.pad(String(t.output), 10)
            + Render.pad(String(t.cacheCreation), 11) + Render.pad(String(t.cacheRead), 12) + Render.pad(Dollars.format(t.cost), 10)
    }

    /// A dollar amount as a JSON number (6 decimals at most).
    static func number(_ v: Double) -> JSONText.Value {
        var s = String(format: "%.6f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return .raw(s)
    }

    static func totalsFields(_ t: UsageTotals) -> [(String, JSONText.Value)] {
        [
            ("input_tokens", .int(t.input)), ("output_tokens", .int(t.output)),
            ("cache_creation_input_tokens", .int(t.cacheCreation)), ("cache_read_input_tokens", .int(t.cacheRead)),
            ("cost_usd", number(t.cost)), ("messages", .int(Int64(t.messages))),
        ]
    }

    static func json(_ u: TaskUsage) -> JSONText.Value {
        .object(
            [("task", .int(u.taskID)), ("title", .string(u.title))] + totalsFields(u.total) + [
                ("by_model", .array(u.byModel.map { .object([("model", .string($0.model))] + totalsFields($0.totals)) })),
                ("unpriced", .array(u.unpriced.map { .string($0) })),
                ("skipped_lines", .int(Int64(u.skippedLines))),
            ])
    }

    /// `show`'s cost line: "$0.0123 (2 messages; 8 in, 40 out, 84 cache write, 24150 cache read)".
    static func costLine(_ taskID: Int64, ctx: CommandContext) -> String? {
        guard let store = try? ctx.store(), let runner = try? ctx.runner(),
              let u = try? store.usage(taskID: taskID, since: nil, prices: prices(runner, ctx)).first,
              u.total.messages > 0
        else { return nil }
        let t = u.total
        return Dollars.format(t.cost) + ctx.style.dim(
            " (\(t.messages) message\(t.messages == 1 ? "" : "s"); \(t.input) in, \(t.output) out, \(t.cacheCreation) cache write, \(t.cacheRead) cache read"
                + (u.unpriced.isEmpty ? "" : "; unpriced: " + u.unpriced.joined(separator: ", ")) + ")")
    }
}

/// What the dispatcher does around commands for usage, budgets and notifications.
enum CommandHooks {
    /// Installs this process's status-change hooks (notifications, usage, budget) for the
    /// runner's database; what they report goes to stderr (a shell prints it above the prompt).
    static func install(_ ctx: CommandContext, _ runner: TaskRunner) {
        TaskHooks.install(runner, report: ctx.interactive ? nil : { @Sendable line in
            FileHandle.standardError.write(Data(((line.hasPrefix("task: ") ? "" : "task: ") + line + "\n").utf8))
        })
    }

    /// Before a command runs: `show` reads the task's usage from the stored offsets first.
    static func before(_ command: any ParsableCommand, _ ctx: CommandContext) {
        guard let show = command as? Show, let id = try? show.task.id(), let runner = try? ctx.runner(),
              (try? ctx.store().taskExists(id: id)) == true else { return }
        _ = UsageView.prices(runner, ctx)
        _ = try? runBlocking { try await runner.updateUsage(taskID: id) }
        _ = try? runBlocking { await runner.enforceBudget(taskID: id) }
    }

    /// After a command of a one-shot run or a script: its notifications and usage reads finish
    /// before the process may exit (a hung notify_command is killed after its timeout).
    static func after(_ ctx: CommandContext) {
        guard !ctx.interactive else { return }
        TaskHooks.drain()
    }
}

/// The shell's own notifications: BEL on its terminal, or desktop notifications (OSC 9 and OSC 777,
/// which terminal emulators turn into system notifications).
enum ShellNotifier {
    static func register(_ runner: TaskRunner) {
        let hooks = TaskHooks.install(runner, report: { Console.shared.printAbove($0) })
        hooks.setTerminalNotifier { change, reason, style in
            let why = reason == .waiting ? "waits" : "finished"
            let body = change.status.rawValue + (change.detail.map { " — " + DisplayTextShort.clean($0) } ?? "")
            let title = "task #\(change.taskID) \(why): \(DisplayTextShort.clean(change.title))"
            var bytes = "\u{07}"
            if style == "desktop" {
                bytes = "\u{1B}]9;\(title): \(body)\u{07}" + "\u{1B}]777;notify;\(title);\(body)\u{07}"
            }
            Console.writeRaw(bytes)
        }
    }
}

/// Text safe inside an escape sequence: no control characters, not too long.
enum DisplayTextShort {
    static func clean(_ s: String) -> String {
        let cleaned = String(s.unicodeScalars.map { $0.properties.generalCategory == .control || $0 == ";" ? " " : Character($0) })
        return cleaned.count > 120 ? String(cleaned.prefix(119)) + "…" : cleaned
    }
}

extension Console {
    /// Writes bytes to the terminal as they are (a bell, an OSC sequence): nothing visible, so the
    /// line being typed is left as it is.
    static func writeRaw(_ text: String) {
        ConsoleLock.shared.withLock {
            Array(text.utf8).withUnsafeBytes { Output.writeAll(1, $0) }
        }
    }
}
