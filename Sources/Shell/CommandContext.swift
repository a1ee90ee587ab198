import Foundation
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
    private var openedStore: TaskStore?

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
        if let s = openedStore { return s }
        try paths.createDirectories()
        let s = try TaskStore(path: paths.database)
        openedStore = s
        return s
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
public protocol ShellCommand {
    mutating func run(_ ctx: CommandContext) throws
}

/// Reads a task id as typed: `3` or `#3`.
func parseTaskID(_ text: String) throws -> Int64 {
    let digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
    guard let id = Int64(digits), id > 0 else {
        throw TaskError.usage("'\(text)' is not a task id (ids are numbers, such as 3)")
    }
    return id
}
