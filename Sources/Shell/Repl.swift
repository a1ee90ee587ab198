import Foundation
import Runner
import TaskCore

/// The interactive `task>` shell.
final class Repl {
    let dispatcher: Dispatcher
    let editor: LineEditor
    let quiet: Bool
    var ctx: CommandContext { dispatcher.ctx }
    /// The live tail of the hook log while the shell runs.
    var liveFeed: Task<Void, Never>?

    init?(dispatcher: Dispatcher, quiet: Bool) {
        guard let editor = LineEditor(program: "task", console: .shared) else { return nil }
        self.dispatcher = dispatcher
        self.editor = editor
        self.quiet = quiet
        let store = { [ctx = dispatcher.ctx] () -> TaskStore? in try? ctx.store() }
        let completer = Completer(store: store)
        editor.complete = { completer.action(for: $0) }
    }

    func run() -> Int32 {
        defer { stopLiveFeed() }
        do {
            for entry in try ctx.store().history(limit: 1000) { editor.addHistory(entry.line) }
        } catch {
            ctx.err.line("task: \(error)")
            ctx.err.flush()
            return 1
        }
        if !quiet {
            ctx.out.line(ctx.style.bold("task \(TaskVersion.current)") + ctx.style.dim(" — type help for commands, Ctrl-D to leave"))
            ctx.out.flush()
        }
        DebugTicker.startIfRequested(ctx.environment)
        ctx.lineSource = { [editor] prompt in
            switch editor.read(prompt: prompt) {
            case .line(let l): return l
            case .interrupted: return ""
            case .endOfInput: return nil
            }
        }
        startLiveFeed()
        while true {
            switch editor.read(prompt: "task> ") {
            case .endOfInput:
                ctx.out.line()
                ctx.out.flush()
                return 0
            case .interrupted:
                // The half-typed line is dropped; a fresh prompt comes on the next row.
                Console.write(["^C"])
                continue
            case .line(let line):
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                let status = runLine(line)
                if !line.hasPrefix(" ") {
                    editor.addHistory(line)
                    do {
                        let trimmed = String(line.reversed().drop(while: { $0 == " " }).reversed())
                        try ctx.store().appendHistory(trimmed, exitStatus: Int(status))
                    } catch {
                        ctx.err.line("task: history not saved: \(error)")
                        ctx.err.flush()
                    }
                }
                if ctx.quitRequested { return 0 }
            }
        }
    }

    /// Runs every command of the line; stops at the first that fails.
    func runLine(_ line: String) -> Int32 {
        let commands: [[String]]
        do {
            commands = try Tokenizer.commands(line)
        } catch {
            ctx.err.line("task: \(error)")
            ctx.err.flush()
            return 64
        }
        var status: Int32 = 0
        for words in commands {
            status = dispatcher.run(words)
            if status != 0 || ctx.quitRequested { break }
        }
        return status
    }
}

extension Repl {
    /// Tails the hook log while the shell runs: each event is stored (with its status change) and
    /// printed above the prompt; finished tasks free slots for queued ones.
    func startLiveFeed() {
        guard let runner = try? ctx.runner() else { return }
        let store = runner.store
        let style = ctx.style
        let ctx = self.ctx
        runner.setListener { events in
            let verbose = ((try? store.setting("verbose")) ?? nil) != "off"
            let followed = ctx.followedTask
            for e in events {
                if let f = followed, e.record.taskID != f { continue }
                guard let line = EventLine.render(e, verbose: verbose) else { continue }
                Console.shared.printAbove(LiveStyle.color(line, e, style))
            }
        }
        liveFeed = Task.detached {
            while !Task.isCancelled {
                do {
                    let tail = try runner.liveTail()
                    for try await batch in tail.lines() {
                        guard let last = batch.last else { continue }
                        try await runner.ingestLive(batch, committed: last.endOffset)
                    }
                } catch {
                    if Task.isCancelled { return }
                    Console.shared.printAbove("task: hook log: \(error); retrying")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

extension Repl {
    /// Ends the live tail (its `tail` process) before the shell exits.
    func stopLiveFeed() {
        guard let feed = liveFeed else { return }
        feed.cancel()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            _ = await feed.value
            done.signal()
        }
        _ = done.wait(timeout: .now() + 1)
    }
}

enum LiveStyle {
    static func color(_ line: String, _ e: IngestedEvent, _ style: Style) -> String {
        guard let t = e.transition else { return style.dim(line) }
        switch t.status {
        case .done: return style.green(line)
        case .failed: return style.red(line)
        case .blocked: return style.yellow(line)
        default: return line
        }
    }
}

/// A diagnostic: `TASK_DEBUG_TICKER=<ms>:<count>` prints `tick N` above the prompt every <ms>,
/// to see (and test) output arriving while a line is being typed.
enum DebugTicker {
    static func startIfRequested(_ env: [String: String]) {
        guard let spec = env["TASK_DEBUG_TICKER"] else { return }
        let parts = spec.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return }
        let (interval, count) = (parts[0], parts[1])
        let thread = Thread {
            for i in 1...count {
                Thread.sleep(forTimeInterval: Double(interval) / 1000)
                Console.shared.printAbove("tick \(i)")
            }
        }
        thread.start()
    }
}
