import ArgumentParser
import Foundation
import TaskCore

struct Prune: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "prune",
        abstract: "Drop the hook events of finished tasks and give the space back (asks first unless --force).",
        discussion: """
            Events of done, failed and cancelled tasks go (all of them, or those stored before --before, or one \
            task's); the tasks, their logs and transcripts stay. The database is then vacuumed.
            """)

    @Option(help: ArgumentHelp("Only events stored before this time (2026-12-01, 2026-12-01T08:00:00Z, or 30d ago).", valueName: "time"))
    var before: String?

    @Option(help: ArgumentHelp("Only this task's events.", valueName: "id"), completion: .custom(Completions.taskIDs))
    var task: String?

    @Flag(help: "Do not ask (required in scripts).")
    var force = false

    func validate() throws {
        _ = try TimeOption.parse(before, name: "--before")
        if let task { _ = try parseTaskID(task) }
    }

    mutating func run(_ ctx: CommandContext) throws {
        let store = try ctx.store()
        let taskID = try task.map(parseTaskID)
        if let taskID {
            let t = try store.task(id: taskID)
            guard t.status.isFinished else {
                throw TaskError.failed("#\(taskID) is \(t.status.rawValue); only a finished task's events can be pruned (stop or done it first)")
            }
        }
        let cutoff = try TimeOption.parse(before, name: "--before")
        let count = try store.prunableEventCount(taskID: taskID, before: cutoff)
        guard count > 0 else {
            ctx.out.line("nothing to prune")
            return
        }
        if !force {
            guard ctx.interactive || isatty(0) == 1 else {
                throw TaskError.failed("prune deletes \(count) events for good; in scripts add --force")
            }
            let prompt = "Delete \(count) hook events of finished tasks? [y/N] "
            if ctx.lineSource == nil { ctx.out.write(prompt) }
            ctx.out.flush()
            guard let answer = ctx.readLine(prompt)?.trimmingCharacters(in: .whitespaces).lowercased(), answer == "y" || answer == "yes" else {
                ctx.out.line("nothing pruned")
                return
            }
        }
        let sizeBefore = store.fileBytes()
        let deleted = try store.pruneEvents(taskID: taskID, before: cutoff)
        try store.vacuum()
        let freed = max(0, sizeBefore - store.fileBytes())
        ctx.out.line("pruned \(deleted) events; the database is \(Bytes.describe(freed)) smaller")
    }
}
