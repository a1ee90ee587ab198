import Foundation
import Runner
import TaskCore

/// The interactive `task>` shell.
final class Repl {
    let dispatcher: Dispatcher
    let editor: LineEditor
    let quiet: Bool
    var ctx: CommandContext { dispatcher.ctx }
    /// The runner's live streams (the local hook log, the sprite's) while the shell runs.
    var live: LiveSession?
    /// Shows what is stored, whichever process stored it.
    var storeFeed: StoreFeed?

    init?(dispatcher: Dispatcher, quiet: Bool) {
        guard let editor = LineEditor(program: "task", console: .shared) else { return nil }
        self.dispatcher = dispatcher
        self.editor = editor
        self.quiet = quiet
        let store = { [ctx = dispatcher.ctx] () -> TaskStore? in try? ctx.store() }
        var completer = Completer(store: store)
        completer.remote = { [ctx = dispatcher.ctx] kind in SpriteAccess.candidates(kind, ctx: ctx) }
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
        ShellNotifier.register(runner)
        let feed = StoreFeed(runner: runner, style: ctx.style, followed: ctx.followedTask)
        storeFeed = feed
        feed.start()
        // What this process stores is shown at once; what others store, within the feed's poll.
        runner.setListener { _ in feed.kick() }
        let session = LiveSession(runner: runner, say: { Console.shared.printAbove($0) })
        live = session
        session.start()
    }
}

extension Repl {
    /// Ends the live tail (its `tail` process) before the shell exits.
    func stopLiveFeed() {
        storeFeed?.stop()
        live?.stop()
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
