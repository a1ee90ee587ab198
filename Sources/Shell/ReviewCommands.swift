import ArgumentParser
import Foundation
import Processes
import Runner
import Sandbox
import TaskCore

// Commands that review a task's work: diff, merge, pr — for tasks here and on the sprite alike.

struct Diff: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "diff",
        abstract: "Show a task's changes: its branch against the commit it started from, then what its agent left uncommitted.",
        discussion: """
            The branch's changes come as git prints them (diff --git … hunks); changes not committed \
            in the task's work folder (untracked files included) follow under a line of their own, \
            "# uncommitted changes in <folder>". A task on the sprite is diffed there, with no pull. \
            On a terminal the diff is in git's colours, and one longer than the screen goes through \
            $PAGER (default: less -R).
            """)

    @OptionGroup var task: TaskArgument

    @Flag(help: "A summary: each changed file with its count of changed lines (git diff --stat).")
    var stat = false

    @Flag(help: "Only the names of the changed files.")
    var nameOnly = false

    @Flag(help: "Never page the output.")
    var noPager = false

    func validate() throws {
        if stat && nameOnly { throw ValidationError("give --stat or --name-only, not both") }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let size = isatty(1) == 1 ? Pager.terminalSize(1) : nil
        let format: TaskRunner.DiffFormat = stat ? .stat(width: size?.columns) : nameOnly ? .nameOnly : .patch
        let color = ctx.style.enabled
        let diff = try runBlocking { try await runner.diff(taskID: taskID, format: format, color: color) }
        for note in diff.notes { ctx.err.line(ctx.style.dim(note)) }
        var text = diff.committed
        if !diff.uncommitted.isEmpty {
            let place = diff.computedOn
            text.append(contentsOf: (ctx.style.yellow("# uncommitted changes in \(diff.workdir ?? "its work folder")\(place)") + "\n").utf8)
            text.append(diff.uncommitted)
        }
        guard !text.isEmpty else {
            ctx.err.line("#\(taskID): no changes since \(diff.start.prefix(7)), where \(diff.branch) started")
            return
        }
        Pager.show(text, ctx: ctx, allowed: !noPager)
    }
}

struct Merge: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "merge",
        abstract: "Merge a task's branch into the branch checked out in its project; the task is then done.",
        discussion: """
            Fast-forward when possible, else a merge commit; --squash makes one commit titled as \
            the task. A sprite task's branch is pulled first. Refused, with nothing changed, while \
            the checkout has uncommitted changes or a merge or rebase in progress, and when the \
            merge conflicts (aborted; the conflicting files are listed). Afterwards the task is done, \
            its worktree removed (kept when it holds uncommitted changes) and its branch kept.
            """)

    @OptionGroup var task: TaskArgument

    @Flag(help: "Make one commit (titled as the task) of all the branch's changes.")
    var squash = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let squash = squash
        let m = try runBlocking { try await runner.merge(taskID: taskID, squash: squash) }
        if let pulled = m.pulled {
            ctx.out.line("#\(taskID) pulled \(m.branch): "
                + (pulled.isEmpty ? "no new commits" : "\(pulled.count) new commit\(pulled.count == 1 ? "" : "s")"))
        }
        let count = "\(m.commits.count) commit\(m.commits.count == 1 ? "" : "s")"
        let how = switch m.kind {
        case .fastForward: "fast-forward, \(count)"
        case .mergeCommit: "merge commit \(m.head), \(count)"
        case .squash: "\(count) squashed into \(m.head)"
        }
        ctx.out.line("#\(taskID) merged \(m.branch) into \(m.into) (\(how))")
        for c in m.commits { ctx.out.line("  " + c) }
        let folder = m.workdirNoun
        var done = "#\(taskID) done; branch \(m.branch) kept"
        if let workdir = m.workdir {
            done += m.workdirRemoved ? "; \(folder) \(workdir) removed" : "; \(folder) \(workdir) kept: \(m.kept ?? "")"
        }
        ctx.out.line(done)
    }
}

struct PullRequest: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "pr",
        abstract: "Push a task's branch to its project's origin and open a pull request with gh.",
        discussion: """
            The pull request's title is the task's title; its body, the task's prompt and the \
            agent's last message. A sprite task's branch is pulled first. Without gh on PATH, the \
            branch is pushed and the gh command to run is printed.
            """)

    @OptionGroup var task: TaskArgument

    @Flag(help: "Open it as a draft.")
    var draft = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let draft = draft
        let pr = try runBlocking { try await runner.pullRequest(taskID: taskID, draft: draft) }
        if let pulled = pr.pulled {
            ctx.out.line("#\(taskID) pulled \(pr.branch): "
                + (pulled.isEmpty ? "no new commits" : "\(pulled.count) new commit\(pulled.count == 1 ? "" : "s")"))
        }
        ctx.out.line("#\(taskID) pushed \(pr.branch) to origin (\(pr.origin))")
        for line in pr.pushed { ctx.out.line("  " + line) }
        if let created = pr.created {
            ctx.out.line("#\(taskID) \(draft ? "draft " : "")pull request: \(created)")
        } else if let command = pr.command {
            ctx.out.line("gh is not installed; open the pull request with:")
            ctx.out.line("  " + command)
        }
    }
}

/// Output longer than the screen goes through `$PAGER` (default `less -R`) when stdout is a
/// terminal, as git does; otherwise it is written as it is.
enum Pager {
    static func terminalSize(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var w = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 else { return nil }
        return (Int(w.ws_row), Int(w.ws_col))
    }

    /// The pager command (run by `sh -c`, as git runs it); nil for none (`PAGER` empty or `cat`).
    static func command(_ environment: [String: String]) -> String? {
        let pager = environment["PAGER"] ?? "less -R"
        let trimmed = pager.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "cat" ? nil : pager
    }

    /// Whether `data` takes more screen rows than `rows - 1` (the last row is the pager's
    /// prompt) on a screen `columns` wide; escape sequences take no room, a tab goes to the next
    /// multiple of 8.
    static func isLonger(_ data: Data, rows: Int, columns: Int) -> Bool {
        var used = 0, column = 0
        var i = data.startIndex
        while i < data.endIndex {
            let b = data[i]
            switch b {
            case 0x0A:
                used += max(1, (column + columns - 1) / columns)
                column = 0
                if used >= rows { return true }
            case 0x1B:
                // CSI: ESC [ parameters… final byte (0x40–0x7E).
                var j = data.index(after: i)
                if j < data.endIndex, data[j] == UInt8(ascii: "[") {
                    j = data.index(after: j)
                    while j < data.endIndex, !(0x40...0x7E).contains(data[j]) { j = data.index(after: j) }
                }
                i = j
            case 0x09:
                column += 8 - column % 8
            case 0x80...0xBF:
                break   // a UTF-8 continuation byte: same character
            default:
                column += 1
            }
            i = data.index(after: i)
        }
        if column > 0 { used += (column + columns - 1) / columns }
        return used >= rows
    }

    static func show(_ data: Data, ctx: CommandContext, allowed: Bool) {
        guard allowed, isatty(1) == 1, let command = command(ctx.environment),
              isLonger(data, rows: terminalSize(1)?.rows ?? 24, columns: terminalSize(1)?.columns ?? 80) else {
            ctx.out.write(bytes: data)
            return
        }
        ctx.out.flush()
        if !page(data, command: command, ctx: ctx) { ctx.out.write(bytes: data) }
    }

    /// Runs the pager with `data` on its stdin and this terminal as its own; lines printed by
    /// background work (hook events in the shell) wait until it ends. False when it cannot start.
    static func page(_ data: Data, command: String, ctx: CommandContext) -> Bool {
        var environment = ctx.environment
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }
        if environment["LV"] == nil { environment["LV"] = "-c" }
        guard let pipe = try? Native.makePipe() else { return false }
        // While the pager owns the terminal, Ctrl-C and Ctrl-\ are its own.
        return TerminalSignals.handedOver { pipeThrough(data, pipe: pipe, command: command, environment: environment) }
    }

    static func pipeThrough(_ data: Data, pipe: (read: Int32, write: Int32), command: String, environment: [String: String]) -> Bool {
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: "/bin/sh", argv: ["sh", "-c", command], environment: environment, cwd: nil,
                stdin: .descriptor(pipe.read), stdout: .inherit, stderr: .inherit, newProcessGroup: false)
        } catch {
            close(pipe.write)
            return false
        }
        ConsoleLock.shared.withLock {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(pipe.write, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        break   // the pager quit before reading everything (EPIPE)
                    }
                    offset += n
                }
            }
            close(pipe.write)
            _ = child.waitForExit()
        }
        return true
    }
}
