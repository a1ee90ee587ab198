import ArgumentParser
import Foundation
import Runner
import Sandbox
import TaskCore

/// The root of every command: `task <command> …`, a `task>` line, or a line of a script.
public struct TaskCLI: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "A shell for running coding agents on tasks in sandboxes while you watch.",
        discussion: """
            Without a command, task opens the task> shell when stdin and stdout are a terminal, \
            and otherwise reads commands from stdin, one per line, stopping at the first that fails.
            """,
        version: TaskVersion.current,
        subcommands: [
            New.self, List.self, Show.self, Edit.self, Delete.self,
            Run.self, Send.self, Keys.self, Approve.self, Deny.self, Follow.self, Attach.self, Stop.self, Done.self, Retry.self, Rewind.self, Pull.self,
            Transcript.self, Diff.self, Merge.self, PullRequest.self,
            Logs.self, Events.self, SpriteCommand.self,
            ProjectCommand.self, ConfigCommand.self, SetCommand.self, HistoryCommand.self, Prune.self, Doctor.self, UsageCommand.self, Search.self, Quit.self,
        ]
    )

    @Option(name: .customLong("db"), help: "Use this database file for this run.", completion: .file(extensions: ["db"]))
    var database: String?

    @Option(name: .customShort("c"), help: ArgumentHelp("Run these commands (separated by ;) and exit.", valueName: "commands"))
    var commands: String?

    @Flag(name: .customLong("no-color"), help: "Never use colour.")
    var noColor = false

    @Flag(name: .shortAndLong, help: "No banner at the shell's start.")
    var quiet = false

    @Flag(help: "Run tasks on this machine even when a Sprites token is set.")
    var local = false

    public init() {}
}

public enum TaskVersion {
    public static let current = "0.1.0"
}

// MARK: - Tasks

struct New: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "new", 
        abstract: "Create a task; prints its id.",
        discussion: "The prompt is what the agent is asked to do; without one, the title is the prompt.")

    @Argument(help: "A one-line title.")
    var title: String

    @Option(help: "What the agent should do (may span lines).")
    var prompt: String?

    @Option(help: "Read the prompt from this file.", completion: .file())
    var promptFile: String?

    @Option(help: "The project the task runs in.", completion: .custom(Completions.projects))
    var project: String?

    @Flag(help: "Start it at once (as run).")
    var run = false

    func validate() throws {
        if prompt != nil && promptFile != nil { throw ValidationError("give --prompt or --prompt-file, not both") }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let text = try prompt ?? promptFile.map(readPromptFile) ?? title
        let task = try ctx.store().createTask(title: title, prompt: text, projectName: project)
        ctx.out.line(String(task.id))
        if run {
            try RunReport.launch(task.id, sandbox: ctx.defaultSandbox(), runner: try ctx.runner(), ctx: ctx)
        }
    }
}

func readPromptFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw TaskError.failed("cannot read prompt file \(path)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw TaskError.failed("prompt file \(path) is not UTF-8 text")
    }
    return text
}

struct List: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List tasks (done, failed and cancelled ones only with --all or --status).",
        aliases: ["ls"])

    @Option(help: ArgumentHelp("Only tasks in this status.", valueName: "status"), completion: .list(TaskStatus.allCases.map(\.rawValue)))
    var status: String?

    @Option(help: "Only tasks of this project.", completion: .custom(Completions.projects))
    var project: String?

    @Flag(help: "Include finished tasks.")
    var all = false

    @Flag(help: "Print JSON (see README for the shape).")
    var json = false

    mutating func run(_ ctx: CommandContext) throws {
        let s = try status.map { value -> TaskStatus in
            guard let s = TaskStatus(rawValue: value) else {
                throw TaskError.usage(
                    "unknown status '\(value)' (one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return s
        }
        let filter = TaskFilter(status: s, projectName: project, includeFinished: all)
        if json {
            var first = true
            try ctx.store().forEachTaskJSON(filter) { obj in
                ctx.out.write(first ? "[\n" : ",\n")
                ctx.out.write(obj)
                first = false
            }
            ctx.out.write(first ? "[]\n" : "\n]\n")
        } else {
            try Render.taskTable(filter, ctx: ctx)
        }
    }
}

struct Show: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one task in full.")

    @OptionGroup var task: TaskArgument

    @Flag(help: "Print JSON: the task's fields and its log.")
    var json = false

    mutating func run(_ ctx: CommandContext) throws {
        let store = try ctx.store()
        ctx.catchUpRemote(taskID: try self.task.id())
        let task = try store.task(id: self.task.id())
        let logs = try store.logs(taskID: task.id)
        if json {
            var obj = try store.taskJSON(id: task.id)
            obj.removeLast()
            let logJSON = JSONText.render(
                .array(logs.map { .object([("kind", .string($0.kind)), ("message", .string($0.message)), ("at", .time($0.createdAt))]) }))
            ctx.out.line(obj + ",\"logs\":" + logJSON + "}")
        } else {
            Render.taskDetail(task, logs: logs, ctx: ctx)
        }
    }
}

struct Edit: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: "Change a task's title, prompt or project.")

    @OptionGroup var task: TaskArgument

    @Option(help: "A new title.")
    var title: String?

    @Option(help: "A new prompt.")
    var prompt: String?

    @Option(help: "Read the new prompt from this file.", completion: .file())
    var promptFile: String?

    @Option(help: "A new project (\"\" for none).", completion: .custom(Completions.projects))
    var project: String?

    func validate() throws {
        if prompt != nil && promptFile != nil { throw ValidationError("give --prompt or --prompt-file, not both") }
        if title == nil && prompt == nil && promptFile == nil && project == nil {
            throw ValidationError("nothing to change: give --title, --prompt, --prompt-file or --project")
        }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let text = try prompt ?? promptFile.map(readPromptFile)
        let task = try ctx.store().editTask(id: self.task.id(), title: title, prompt: text, projectName: project)
        ctx.out.line("#\(task.id) updated")
    }
}

struct Delete: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a task, its log and its events.", aliases: ["rm"])

    @OptionGroup var task: TaskArgument

    @Flag(help: "Delete even while the task is queued, processing or blocked (its agent is stopped first).")
    var force = false

    mutating func run(_ ctx: CommandContext) throws {
        let store = try ctx.store()
        let task = try store.task(id: self.task.id())
        if task.status.isActive {
            guard force else { throw TaskError.failed("#\(task.id) is \(task.status.rawValue); stop it first or use delete --force") }
            // Its agent is ended first: left running, it would hold a slot's worth of work (and
            // keep a sprite awake) for a task nobody can see.
            let runner = try ctx.runner()
            try runBlocking { try await runner.stop(taskID: task.id) }
        }
        try store.deleteTask(id: task.id)
        ctx.out.line("#\(task.id) deleted")
        if let branch = task.branch, let folder = task.worktreePath {
            let place = task.sandbox == SiteKind.sprite.rawValue ? " on the sprite \(task.site ?? "")" : ""
            ctx.out.line("  kept its branch \(branch) and its folder \(folder)\(place)")
        }
    }
}

// MARK: - Projects

struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Manage projects: folders that tasks run in.",
        subcommands: [Add.self, ProjectList.self, Remove.self])

    struct Add: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a project.")

        @Argument(help: "A one-word name.")
        var name: String

        @Argument(help: "Its folder (a git repository gets a worktree per task).", completion: .directory)
        var path: String

        mutating func run(_ ctx: CommandContext) throws {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
                throw TaskError.failed("\(path) is not a folder")
            }
            let p = try ctx.store().addProject(name: name, path: url.path)
            ctx.out.line("project \(p.name) → \(p.path)")
        }
    }

    struct ProjectList: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List projects.", aliases: ["ls"])

        @Flag(help: "Print JSON.")
        var json = false

        mutating func run(_ ctx: CommandContext) throws {
            let projects = try ctx.store().projects()
            if json {
                Render.jsonArray(projects.map(JSONText.project), to: ctx.out)
                return
            }
            if projects.isEmpty {
                ctx.out.line(ctx.style.dim("no projects; add one with: project add <name> <path>"))
                return
            }
            let w = max(4, projects.map(\.name.count).max() ?? 0)
            ctx.out.line(ctx.style.bold(Render.pad("NAME", w) + "  TASKS  PATH"))
            for p in projects {
                ctx.out.line(Render.pad(p.name, w) + "  " + Render.pad(String(p.taskCount), 5) + "  " + p.path)
            }
        }
    }

    struct Remove: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a project that has no tasks.", aliases: ["rm"])

        @Argument(help: ArgumentHelp("The project.", valueName: "project"), completion: .custom(Completions.projects))
        var name: String

        mutating func run(_ ctx: CommandContext) throws {
            try ctx.store().removeProject(name: name)
            ctx.out.line("project \(name) removed")
        }
    }
}

// MARK: - Settings

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Read and change settings.",
        subcommands: [Get.self, Set.self, ConfigList.self])

    struct Get: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a setting's value.")

        @Argument(help: ArgumentHelp("The setting.", valueName: "key"), completion: .list(Settings.all.map(\.key)))
        var key: String

        mutating func run(_ ctx: CommandContext) throws {
            ctx.out.line(try ctx.setting(key).value)
        }
    }

    struct Set: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a setting.")

        @OptionGroup var assignment: SettingAssignment

        mutating func run(_ ctx: CommandContext) throws { try assignment.apply(ctx) }
    }

    struct ConfigList: ParsableCommand, ShellCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List every setting with its value and where it comes from.", aliases: ["ls"])

        @Flag(help: "Print JSON.")
        var json = false

        mutating func run(_ ctx: CommandContext) throws {
            let rows = try Settings.all.map { d -> (SettingDefinition, String, String) in
                let (v, src) = try ctx.setting(d.key)
                return (d, v, src)
            }
            if json {
                Render.jsonArray(
                    rows.map { .object([("key", .string($0.0.key)), ("value", .string($0.1)), ("source", .string($0.2))]) },
                    to: ctx.out)
                return
            }
            let kw = rows.map(\.0.key.count).max() ?? 0
            let vw = rows.map(\.1.count).max() ?? 0
            for (d, v, src) in rows {
                ctx.out.line(Render.pad(d.key, kw) + "  " + Render.pad(v, vw) + "  " + ctx.style.dim("(\(src)) \(d.summary)"))
            }
        }
    }
}

/// `set verbose off`: the shell's short form of `config set`.
struct SetCommand: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a setting (short for config set).")

    @OptionGroup var assignment: SettingAssignment

    mutating func run(_ ctx: CommandContext) throws { try assignment.apply(ctx) }
}

/// `<key> <value>`: what `config set` and `set` take, and what they do with it.
struct SettingAssignment: ParsableArguments {
    @Argument(help: ArgumentHelp("The setting.", valueName: "key"), completion: .list(Settings.all.map(\.key)))
    var key: String

    // Taken as typed, even when it starts with '-' (a negative number is a bad value, not an option).
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Its new value.", valueName: "value"))
    var values: [String] = []

    func validate() throws {
        if values.count != 1 {
            throw ValidationError(values.isEmpty ? "Missing expected argument '<value>'" : "give one value (quote it if it has spaces)")
        }
    }

    func apply(_ ctx: CommandContext) throws {
        let def = try Settings.definition(key)
        let v = try def.normalize(values[0])
        try ctx.store().setSetting(key, v)
        ctx.out.line("\(key) = \(v)")
        if let env = def.environment, let e = ctx.environment[env], !e.isEmpty {
            ctx.err.line("task: note: \(env)=\(e) in the environment overrides this setting")
        }
    }
}

// MARK: - Shell

struct HistoryCommand: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the commands typed at the task> prompt.")

    @Argument(help: ArgumentHelp("How many (default 20).", valueName: "count"))
    var count: Int = 20

    @Option(help: "Only lines containing this text.")
    var search: String?

    func validate() throws {
        if count < 1 { throw ValidationError("the count must be at least 1") }
    }

    mutating func run(_ ctx: CommandContext) throws {
        try ctx.store().forEachHistory(limit: count, search: search) { e in
            let status = e.exitStatus.map { $0 == 0 ? "  " : ctx.style.red(String($0)) } ?? " ?"
            ctx.out.line(Render.pad(String(e.id), 5) + " " + ctx.style.dim(formatTimestamp(e.createdAt).prefix(19).replacingOccurrences(of: "T", with: " ")) + " " + status + " " + e.line)
        }
    }
}

struct Quit: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "quit", abstract: "Leave the shell (also: exit, Ctrl-D).", aliases: ["exit"])

    mutating func run(_ ctx: CommandContext) throws {
        ctx.quitRequested = true
    }
}

extension Substring {
    func replacingOccurrences(of a: String, with b: String) -> String {
        String(self).replacingOccurrences(of: a, with: b)
    }
}
