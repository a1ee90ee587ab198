import ArgumentParser
import Foundation
import TaskCore

struct Search: ParsableCommand, ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find tasks and agent activity by words: titles, prompts, commands, file paths, prompts typed, the agent's messages.",
        discussion: """
            The words are an SQLite FTS5 query: all words must match; "a phrase", OR, NOT, \
            prefix* work. Best matches first, one line each: the task, the time, the matching text.
            """)

    @Argument(help: ArgumentHelp("What to look for.", valueName: "words"))
    var words: [String] = []

    @Option(help: ArgumentHelp("Only this task.", valueName: "id"), completion: .custom(Completions.taskIDs))
    var task: String?

    @Option(help: ArgumentHelp("At most this many hits (default 50).", valueName: "n"))
    var limit: String?

    @Flag(help: "Print JSON, one object per hit.")
    var json = false

    func validate() throws {
        if words.isEmpty { throw ValidationError("Missing expected argument '<words>'") }
        if let task { _ = try parseTaskID(task) }
        _ = try CountOption.parse(limit, "--limit")
    }

    mutating func run(_ ctx: CommandContext) throws {
        let store = try ctx.store()
        let taskID = try task.map(parseTaskID)
        let query = words.joined(separator: " ")
        let hits = try store.search(query, taskID: taskID, limit: try CountOption.parse(limit, "--limit") ?? 50)
        let s = ctx.style
        for hit in hits {
            if json {
                ctx.out.line(JSONText.render(.object([
                    ("task", .int(hit.taskID)), ("kind", .string(hit.kind.rawValue)), ("event_id", .int(hit.eventID)),
                    ("field", .string(hit.field)), ("at", .time(hit.at)),
                    ("snippet", .string(SearchLine.plain(hit.snippet))), ("rank", .raw(String(format: "%.4f", hit.rank))),
                ])))
                continue
            }
            let id = hit.taskID.map { "#\($0)" } ?? "#?"
            let time = formatTimestamp(hit.at).prefix(19).replacingOccurrences(of: "T", with: " ")
            ctx.out.line(s.bold(Render.pad(id, 6)) + " " + s.dim(time) + " " + s.dim(Render.pad(hit.field, 18)) + " "
                + SearchLine.highlighted(hit.snippet, style: s))
        }
        if hits.isEmpty && !json { ctx.out.line(s.dim("nothing found")) }
    }
}

enum SearchLine {
    /// The snippet on one line, matched words in bold yellow on a terminal, else in [brackets].
    static func highlighted(_ snippet: String, style: Style) -> String {
        var out = ""
        var inside = ""
        var marking = false
        for ch in oneLine(snippet) {
            if String(ch) == SearchIndex.open {
                marking = true
                inside = ""
            } else if String(ch) == SearchIndex.close {
                out += style.enabled ? style.bold(style.yellow(inside)) : "[" + inside + "]"
                marking = false
                inside = ""
            } else if marking {
                inside.append(ch)
            } else {
                out.append(ch)
            }
        }
        return out + inside
    }

    static func plain(_ snippet: String) -> String {
        snippet.replacingOccurrences(of: SearchIndex.open, with: "").replacingOccurrences(of: SearchIndex.close, with: "")
    }

    static func oneLine(_ s: String) -> String {
        String(s.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}
