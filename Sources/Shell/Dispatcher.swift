import ArgumentParser
import Runner
import Sandbox
import TaskCore

/// Runs one command given as words, the same way for all three modes, and returns its exit
/// status: 0 ok, 1 the command failed, 64 it was malformed.
public final class Dispatcher {
    public let ctx: CommandContext

    public init(_ ctx: CommandContext) { self.ctx = ctx }

    /// Stores what the local agents reported, starts queued tasks in freed slots and looks at
    /// agents quiet since their launch. A failed catch-up is said on stderr — once per command,
    /// and once in a shell until it works again — and the command goes on with what is stored.
    func catchUp(_ runner: TaskRunner) {
        do {
            try runner.catchUp()
            if catchUpFailing {
                catchUpFailing = false
                ctx.err.line("task: hook events are being stored again")
            }
        } catch {
            if !catchUpFailing || !ctx.interactive {
                ctx.err.line("task: could not store the agents' latest hook events: \(error) (nothing is lost; the next command tries again)")
                ctx.err.flush()
            }
            catchUpFailing = true
        }
        // Agents whose windows are gone here (a restart, a kill-server) hold no slot: one tmux
        // command, and only while the store says agents run here.
        _ = try? runBlocking { await runner.reconcile(site: runner.local) }
        if runner.mayStartQueued() {
            _ = try? runBlocking { await runner.startQueued() }
        }
        _ = try? runBlocking { await runner.watchStartups() }
        for notice in runner.takeNotices() { ctx.err.line("task: " + notice) }
    }

    /// The last catch-up failed (said once in a shell until it recovers).
    private var catchUpFailing = false

    public func run(_ words: [String]) -> Int32 {
        defer {
            ctx.out.flush()
            ctx.err.flush()
        }
        guard let first = words.first else { return 0 }
        if first == "help" { return help(Array(words.dropFirst())) }
        let names = Self.commandNames
        if !names.contains(first) {
            return usageError(unknownCommandMessage(first, known: names))
        }
        do {
            let parsed = try TaskCLI.parseAsRoot(words)
            // Every command first stores what the agents reported meanwhile, so nothing is stale.
            if !(parsed is Quit), let runner = ctx.existingRunner() {
                CommandHooks.install(ctx, runner)
                catchUp(runner)
                CommandHooks.before(parsed, ctx)
            }
            defer { CommandHooks.after(ctx) }
            var command = parsed
            let subcommands = type(of: parsed).configuration.subcommands
            guard subcommands.isEmpty else {
                let subs = subcommands.map { $0._commandName }.joined(separator: ", ")
                return usageError("'\(first)' needs a subcommand: \(subs) (see: help \(first))")
            }
            CommandContext.current = ctx
            defer { CommandContext.current = nil }
            try command.run()
            return 0
        } catch let e as ExitCode {
            // A command passing on another program's exit status (sprite exec), which already said why.
            return e.rawValue
        } catch let e as TaskError {
            ctx.out.flush()
            ctx.err.line("task: " + e.description)
            return e.exitCode
        } catch {
            let code = TaskCLI.exitCode(for: error).rawValue
            let message = TaskCLI.fullMessage(for: error)
            if code == 0 {
                ctx.out.line(message)
            } else {
                ctx.out.flush()
                ctx.err.line(message.hasPrefix("Error: ") ? "task: " + message.dropFirst(7) : message)
            }
            return code
        }
    }

    func usageError(_ message: String) -> Int32 {
        ctx.err.line("task: " + message)
        return 64
    }

    func unknownCommandMessage(_ word: String, known: [String]) -> String {
        if word.hasPrefix("-") {
            return "'\(word)' goes before the command (task \(word) …), or is not an option of task"
        }
        var message = "unknown command '\(word)'"
        if let near = Suggest.nearest(word, in: known) { message += "; did you mean '\(near)'?" }
        return message + " (type help for the list)"
    }

    /// `help` lists the commands; `help <command …>` shows one in full.
    func help(_ words: [String]) -> Int32 {
        if words.isEmpty {
            ctx.out.line(ctx.style.bold("Commands") + " (help <command> for details):")
            var rows: [(String, String)] = []
            for sub in TaskCLI.configuration.subcommands {
                let kids = sub.configuration.subcommands
                if kids.isEmpty { rows.append((sub._commandName, sub.configuration.abstract)) }
                for k in kids { rows.append((sub._commandName + " " + k._commandName, k.configuration.abstract)) }
            }
            rows.append(("help", "This list, or one command in full."))
            // The name column is as wide as the longest name, plus two spaces.
            let width = rows.map(\.0.count).max()! + 2
            for (name, abstract) in rows { ctx.out.line("  " + Render.pad(name, width) + abstract) }
            if ctx.interactive {
                ctx.out.line("")
                ctx.out.line("Keys: Tab completes, Ctrl-R searches history, Ctrl-C clears the line, Ctrl-D leaves.")
            }
            return 0
        }
        var type: any ParsableCommand.Type = TaskCLI.self
        for w in words {
            let subs = type.configuration.subcommands
            guard let next = Self.subcommand(named: w, in: subs) else {
                return usageError(unknownCommandMessage(w, known: subs.map { $0._commandName }))
            }
            type = next
        }
        ctx.out.write(TaskCLI.helpMessage(for: type))
        ctx.out.line()
        return 0
    }
}

extension Dispatcher {
    /// Every first word that names a command (with aliases), straight from the definitions.
    static let commandNames: [String] = TaskCLI.configuration.subcommands.flatMap {
        [$0._commandName] + $0.configuration.aliases
    }

    static func subcommand(named name: String, in types: [any ParsableCommand.Type]) -> (any ParsableCommand.Type)? {
        for t in types {
            let config = t.configuration
            if t._commandName == name || config.aliases.contains(name) { return t }
        }
        return nil
    }
}

/// Finds the closest known word to a typo.
enum Suggest {
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        // A word that begins a command names it (`proj` is project, not pr); else the nearest by edits.
        let extended = candidates.filter { $0.hasPrefix(word) && $0 != word }
        if word.count >= 3, let only = extended.min(by: { $0.count < $1.count }) { return only }
        let best = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (name, d) = best else { return nil }
        if d <= max(1, min(2, word.count / 2)) { return name }
        return candidates.first { $0.hasPrefix(word) }
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { cur[j] = min(cur[j], prev[j - 1]) }
            }
            prev = cur
        }
        return prev[b.count]
    }
}
