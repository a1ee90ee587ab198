import AgentHooks
import ArgumentParser
import Foundation
import Runner
import Sandbox
import TaskCore

struct Transcript: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Show a task's conversation from the agent's transcript: your prompts, its answers and tool calls.",
        discussion: "The transcript is the file the agent reported (transcript_path), read where the task ran.")

    @OptionGroup var task: TaskArgument

    @Flag(help: "Print the transcript's JSON lines as they are.")
    var json = false

    @Flag(help: "Keep printing new entries until Ctrl-C.")
    var follow = false

    mutating func run(_ ctx: CommandContext) throws {
        let runner = try ctx.runner()
        let taskID = try task.id()
        _ = try ctx.store().task(id: taskID)
        var offset: Int64 = 0
        let raw = json
        // Read and printed a chunk at a time: a long transcript is never held whole.
        let show: () throws -> Bool = {
            while true {
                let from = offset
                guard let chunk = try runBlocking({ try await runner.transcript(taskID: taskID, from: from) }) else { return false }
                for line in chunk.lines {
                    if raw {
                        ctx.out.line(String(decoding: line, as: UTF8.self))
                    } else {
                        for text in TranscriptLine.render(line, style: ctx.style) { ctx.out.line(text) }
                    }
                }
                offset = chunk.nextOffset
                ctx.out.flush()
                if !chunk.more || offset == from { return true }
            }
        }
        let found = try show()
        guard follow else {
            if !found { throw TaskError.failed("#\(taskID) has no transcript yet (its agent has not started a session)") }
            return
        }
        try FollowLoop.poll(ctx, interval: 0.5) { _ = try show() }
    }
}

/// One transcript record (Claude Code's JSONL, spec §8) as lines for the terminal. Unknown record
/// types and fields are skipped, never an error.
enum TranscriptLine {
    static func render(_ line: Data, style: Style) -> [String] {
        guard let record = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else { return [] }
        let message = record["message"] as? [String: Any]
        switch record["type"] as? String {
        case "user":
            if let text = message?["content"] as? String {
                return prefixed(style.bold("› "), text, limit: 400)
            }
            return (message?["content"] as? [[String: Any]] ?? []).compactMap { item in
                guard item["type"] as? String == "tool_result" else {
                    return (item["text"] as? String).map { style.bold("› ") + DisplayText.oneLine($0) }
                }
                let text = resultText(item["content"])
                let failed = item["is_error"] as? Bool == true
                return style.dim("  ↳ ") + (failed ? style.red("error: ") : "") + style.dim(DisplayText.oneLine(text))
            }
        case "assistant":
            var lines: [String] = []
            for item in message?["content"] as? [[String: Any]] ?? [] {
                switch item["type"] as? String {
                case "text":
                    lines += prefixed("● ", item["text"] as? String ?? "", limit: 2000)
                case "tool_use":
                    let name = item["name"] as? String ?? "tool"
                    let input = (item["input"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
                    lines.append("  ▸ " + name + "  " + ToolTarget.of(tool: name, input: input))
                default:
                    continue
                }
            }
            return lines
        case "system" where record["subtype"] as? String == "turn_duration":
            guard let ms = (record["durationMs"] as? NSNumber)?.doubleValue else { return [] }
            return [style.dim(String(format: "  (turn took %.1f s)", ms / 1000))]
        default:
            return []
        }
    }

    /// `text` with `head` before its first line and the rest indented, cut to `limit` characters.
    static func prefixed(_ head: String, _ text: String, limit: Int) -> [String] {
        let cut = text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
        let lines = cut.split(separator: "\n", omittingEmptySubsequences: false).map { DisplayText.oneLine(String($0), limit: 500) }
        guard let first = lines.first else { return [] }
        return [head + first] + lines.dropFirst().map { "  " + $0 }
    }

    /// A tool result's text: a string, or the text items of a list.
    static func resultText(_ content: Any?) -> String {
        if let s = content as? String { return s }
        let items = content as? [[String: Any]] ?? []
        return items.compactMap { $0["text"] as? String }.joined(separator: " ")
    }
}
