import ArgumentParser
import CLineEdit
import Foundation
import Runner
import Sandbox
import TaskCore

struct Attach: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "attach", 
        abstract: "Hand the terminal to the task's agent (tmux); tmux's detach key (Ctrl-B d) comes back.")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        guard isatty(0) == 1 && isatty(1) == 1 else {
            throw TaskError.failed("attach needs a terminal; use follow \(taskID) or send \(taskID) <text> in scripts")
        }
        let (sandbox, argv) = try runBlocking { try await runner.attachCommand(taskID: taskID) }
        let before = try ctx.store().lastEventID(taskID: taskID) ?? 0
        ctx.out.flush()
        _ = try sandbox.interactive(argv)
        try runBlocking { try await runner.catchUp(taskID: taskID) }
        let happened = try ctx.store().events(taskID: taskID, afterID: before)
        let task = try ctx.store().task(id: taskID)
        let tools = happened.filter { $0.event == "PreToolUse" }.count
        ctx.out.line("#\(taskID) detached: \(happened.count) events while attached (\(tools) tool calls); now \(task.status.rawValue)"
            + (task.statusDetail.map { " — \($0)" } ?? ""))
    }
}

struct Follow: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(commandName: "follow", 
        abstract: "Talk to a task line by line: a task#<id>> prompt whose lines go to the agent; .detach or Ctrl-D returns.")

    @OptionGroup var task: TaskArgument

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        let task = try ctx.store().task(id: taskID)
        guard task.status.isActive else { throw TaskError.failed("#\(taskID) has no running agent (it is \(task.status.rawValue))") }
        ctx.followedTask.set(taskID)
        defer { ctx.followedTask.set(nil) }
        if ctx.interactive {
            ctx.out.line(ctx.style.dim("following #\(taskID) \(task.title) — lines go to the agent; .detach or Ctrl-D to return"))
            ctx.out.flush()
        }
        while let line = ctx.readLine("task#\(taskID)> ") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == ".detach" { break }
            let outcome = try runBlocking { try await runner.send(taskID: taskID, text: text) }
            if outcome == .unconfirmed {
                ctx.err.line("task: #\(taskID) did not take that line within 10 s")
                ctx.err.flush()
            }
        }
        if ctx.interactive { ctx.out.line(ctx.style.dim("back at task>; #\(taskID) keeps running")) }
    }
}

/// Ctrl-C while a command runs: a flag the command's loop checks.
enum Interrupt {
    static func reset() {
        le_install_sigint()
        _ = le_take_sigint()
    }

    static func pending() -> Bool { le_take_sigint() != 0 }
}
