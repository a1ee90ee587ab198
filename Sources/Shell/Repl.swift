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
    /// The sprite's live session while tasks run there.
    var spriteFeed: Task<Void, Never>?
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
        spriteFeed = SpriteFeed.start(runner)
        liveFeed = Task.detached {
            while !Task.isCancelled {
                do {
                    // A tail ends by itself when the log is rotated: the next one reads the new file.
                    let tail = try await runner.liveTail()
                    for try await batch in tail.lines() {
                        guard let last = batch.last else { continue }
                        try await runner.ingestLive(batch, committed: last.endOffset, tail: tail)
                    }
                    for notice in runner.takeNotices() { Console.shared.printAbove("task: " + notice) }
                    continue
                } catch is HookLogMoved {
                    continue
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
        storeFeed?.stop()
        let feeds = [liveFeed, spriteFeed].compactMap { $0 }
        feeds.forEach { $0.cancel() }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            for feed in feeds { _ = await feed.value }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 1)
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

/// The sprite's live session: while any task is queued or running on the sprite, one stream
/// tails the sprite's hook log from the stored offset and stores what it reads. When the stream
/// drops (network, a pause, a fault) it reconnects with backoff and jitter and resumes from the
/// stored offset, so every event is stored exactly once. Its state changes are one line each above
/// the prompt: `sprite: live`, `sprite: reconnecting… (reason)`.
enum SpriteFeed {
    static func start(_ runner: TaskRunner) -> Task<Void, Never>? {
        guard runner.hasSprite else { return nil }
        let store = runner.store
        return Task.detached {
            // `run --pull` tasks that ended while no shell was open (a one-shot command stored their end).
            for line in await runner.pullFinished() { Console.shared.printAbove(line) }
            var failures = 0
            var needsCatchUp = true
            var state = "idle"
            func announce(_ new: String, _ text: String) {
                guard new != state else { return }
                state = new
                Console.shared.printAbove(text)
            }
            while !Task.isCancelled {
                guard ((try? store.activeCount(sandbox: Site.Kind.sprite.rawValue)) ?? 0) > 0 else {
                    state = "idle"
                    try? await Task.sleep(for: .milliseconds(250))
                    continue
                }
                var reason = "the stream ended"
                var source: String?
                do {
                    let site = try await runner.site(.sprite)
                    source = site.source
                    // After a drop the stored state still names the file; after a tail that ended
                    // by itself (the log moved), catch up first so the next one reads the new file.
                    let tail = try await runner.liveTail(site: site, catchUp: needsCatchUp)
                    for try await batch in tail.lines() {
                        guard let last = batch.last else {
                            runner.setLive(site.source, true)
                            failures = 0
                            announce("live", "sprite: live")
                            for line in await runner.reconcile(site: site) { Console.shared.printAbove(line) }
                            continue
                        }
                        try await runner.ingestLive(batch, committed: last.endOffset, tail: tail, source: site.source)
                        if batch.contains(where: { $0.record.event == "AgentExit" }) {
                            for line in await runner.pullFinished() { Console.shared.printAbove(line) }
                        }
                    }
                    needsCatchUp = true
                } catch {
                    reason = "\(error)"
                    needsCatchUp = error is HookLogMoved
                }
                if let source { runner.setLive(source, false) }
                if Task.isCancelled { return }
                announce("reconnecting", "sprite: reconnecting… (\(reason))")
                failures += 1
                let backoff = min(10, 0.1 * pow(2, Double(min(failures, 8) - 1))) * Double.random(in: 0.5...1.5)
                try? await Task.sleep(for: .seconds(backoff))
            }
        }
    }
}
