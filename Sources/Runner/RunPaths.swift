import Foundation
import TaskCore

/// Where a local run keeps its files, under `$TASK_HOME`.
public struct RunPaths: Sendable {
    public let home: String

    public init(home: String) { self.home = home }

    public var runDirectory: String { home + "/run" }
    /// The local sandbox's hook log: every hook line of every local task is appended here.
    public var hookLog: String { runDirectory + "/hooks.log" }
    /// The hook script every handler runs.
    public var hookScript: String { runDirectory + "/hook.sh" }
    public func taskDirectory(_ id: Int64) -> String { runDirectory + "/tasks/\(id)" }
    /// Work folders of tasks without a project.
    public var workDirectory: String { home + "/work" }
    /// Git worktrees of tasks in a project.
    public var worktreeDirectory: String { home + "/worktrees" }
}

/// A lower-case slug of a title for branch and folder names: letters and digits, `-` between words,
/// at most 40 characters.
public func slug(_ title: String) -> String {
    var out = ""
    var dash = false
    for ch in title.lowercased().unicodeScalars {
        if ch.isASCII, ch.properties.isAlphabetic || ("0"..."9").contains(ch) {
            if dash, !out.isEmpty { out += "-" }
            out.unicodeScalars.append(ch)
            dash = false
        } else {
            dash = true
        }
        if out.count >= 40 { break }
    }
    return out.isEmpty ? "task" : out
}
