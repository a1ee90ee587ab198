import ArgumentParser
import Foundation
import Synchronization
import Runner
import Sandbox
import TaskCore

/// What a command runs with: the store, where output goes, and how the shell was started.
public final class CommandContext: @unchecked Sendable {
    public let paths: TaskPaths
    public let environment: [String: String]
    public let out: Output
    public let err: Output
    public let style: Style
    /// True at the `task>` prompt; false for one-shot and scripted runs.
    public let interactive: Bool
    /// Set by `quit`: the shell ends after this line.
    public var quitRequested = false
    /// The store and runner, made on first use from whichever thread asks first (the sprite
    /// provider reads settings from the cooperative pool).
    private let opened = Mutex<(store: TaskStore?, runner: TaskRunner?)>((nil, nil))
    /// The task whose events `follow` shows; others are not printed meanwhile (read by the feed's thread).
    let followedTask = FollowedTask()
    /// Reads a line for commands that converse (follow): the line editor at the prompt, stdin in scripts.
    public var lineSource: ((String) -> String?)?

    public init(
        paths: TaskPaths, environment: [String: String], out: Output, err: Output, style: Style,
        interactive: Bool
    ) {
        self.paths = paths
        self.environment = environment
        self.out = out
        self.err = err
        self.style = style
        self.interactive = interactive
    }

    /// The store, opened (and the data folder created) on first use.
    public func store() throws -> TaskStore {
        try opened.withLock { opened in
            if let s = opened.store { return s }
            try paths.createDirectories()
            let s = try TaskStore(path: paths.database)
            opened.store = s
            return s
        }
    }

    /// The task runner, made on first use; it can reach the sprite when a Sprites token is set.
    public func runner() throws -> TaskRunner {
        if let r = opened.withLock({ $0.runner }) { return r }
        let r = TaskRunner(store: try store(), home: paths.home, environment: environment, sprite: SpriteSites.provider(self))
        return opened.withLock { opened in
            if let existing = opened.runner { return existing }
            opened.runner = r
            return r
        }
    }

    /// Stores what a task running on a sprite reported since the last look (one read of the
    /// sprite's hook log); nothing for local tasks (the dispatcher caught those up) or ended ones,
    /// and nothing when the sprite cannot be reached (what is stored is shown).
    func catchUpRemote(taskID: Int64) {
        guard let task = try? store().task(id: taskID), task.status.isActive, task.sandbox == SiteKind.sprite.rawValue,
              let runner = try? runner() else { return }
        _ = try? runBlocking { try await runner.catchUp(taskID: taskID) }
    }

    /// Set by `--local`: tasks run on this machine unless `run --sandbox sprite` says otherwise.
    public var preferLocal = false

    /// Where `run` starts a task when not told: the sprite when a Sprites token is set (and
    /// `--local` was not given), else this machine.
    func defaultSandbox() -> SiteKind {
        !preferLocal && SpriteAccess.findToken(self) != nil ? .sprite : .local
    }

    /// The runner if the database exists already (so catching up never creates one).
    func existingRunner() -> TaskRunner? {
        if let r = opened.withLock({ $0.runner }) { return r }
        guard FileManager.default.fileExists(atPath: paths.database) else { return nil }
        return try? runner()
    }

    /// A line from the user for a conversing command; nil at the end of input.
    public func readLine(_ prompt: String) -> String? {
        if let source = lineSource { return source(prompt) }
        var reader = LineReader(fd: STDIN_FILENO)
        return reader.next().map { String(decoding: $0, as: UTF8.self) }
    }

    /// The effective value of a setting: environment override, else stored, else default.
    public func setting(_ key: String) throws -> (value: String, source: String) {
        let def = try Settings.definition(key)
        if let env = def.environment, let v = environment[env], !v.isEmpty { return (v, "env \(env)") }
        if let v = try store().setting(key) { return (v, "set") }
        return (def.defaultValue, "default")
    }
}

/// A command the shell can run: parsed by ArgumentParser, run with a context.
///
/// ArgumentParser's `run()` is implemented here for every such command, so the dispatcher calls it
/// through `ParsableCommand` without a dynamic cast (a cast to a protocol scans every conformance in
/// the binary, milliseconds at each start).
public protocol ShellCommand: ParsableCommand {
    mutating func run(_ ctx: CommandContext) throws
}

extension ShellCommand {
    public mutating func run() throws {
        guard let ctx = CommandContext.current else {
            throw TaskError.failed("internal error: a command ran without a context")
        }
        try run(ctx)
    }
}

extension CommandContext {
    /// The context of the command being dispatched (commands run one at a time, on one thread).
    nonisolated(unsafe) static var current: CommandContext?
}

/// Reads a task id as typed: `3` or `#3`.
func parseTaskID(_ text: String) throws -> Int64 {
    let digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
    guard let id = Int64(digits), id > 0 else {
        throw TaskError.usage("'\(text)' is not a task id (ids are numbers, such as 3)")
    }
    return id
}
