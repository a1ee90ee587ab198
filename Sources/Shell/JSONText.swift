import Foundation
import TaskCore

/// Writes JSON with a fixed key order, so `--json` output is stable byte for byte.
enum JSONText {
    /// A JSON value under construction.
    indirect enum Value {
        case string(String?)
        case int(Int64?)
        case bool(Bool)
        case time(Double?)
        case object([(String, Value)])
        case array([Value])
        case raw(String)
    }

    static func render(_ v: Value) -> String {
        var out = ""
        write(v, into: &out)
        return out
    }

    static func write(_ v: Value, into out: inout String) {
        switch v {
        case .string(nil), .int(nil), .time(nil): out += "null"
        case .string(let s?): quote(s, into: &out)
        case .int(let i?): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .time(let t?): quote(formatTimestamp(t), into: &out)
        case .raw(let r): out += r
        case .object(let fields):
            out += "{"
            for (i, (k, fv)) in fields.enumerated() {
                if i > 0 { out += "," }
                quote(k, into: &out)
                out += ":"
                write(fv, into: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7F:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    /// The documented shape of a task (see README, "JSON output").
    static func task(_ t: TaskRecord) -> Value {
        .object([
            ("id", .int(t.id)),
            ("title", .string(t.title)),
            ("prompt", .string(t.prompt)),
            ("status", .string(t.status.rawValue)),
            ("status_detail", .string(t.statusDetail)),
            ("project", .string(t.projectName)),
            ("created_at", .time(t.createdAt)),
            ("updated_at", .time(t.updatedAt)),
            ("started_at", .time(t.startedAt)),
            ("finished_at", .time(t.finishedAt)),
            ("sandbox", .string(t.sandbox)),
            ("sprite", .string(t.sandbox == "sprite" ? t.site : nil)),
            ("branch", .string(t.branch)),
            ("worktree", .string(t.worktreePath)),
            ("session_id", .string(t.sessionID)),
            ("exit_code", .int(t.exitCode.map(Int64.init))),
        ])
    }

    /// The documented shape of a hook event (`events --json`, one object per line).
    static func event(_ e: StoredEvent) -> Value {
        .object([
            ("id", .int(e.id)),
            ("task", .int(e.taskID)),
            ("event", .string(e.event)),
            ("tool", .string(e.toolName)),
            ("summary", .string(e.summary)),
            ("raw", .raw(isJSONObject(e.rawJSON) ? e.rawJSON : "null")),
            ("raw_text", .string(isJSONObject(e.rawJSON) ? nil : e.rawJSON)),
            ("appended_at", .time(e.appendedAt)),
            ("stored_at", .time(e.receivedAt)),
            ("offset", .int(e.sourceOffset)),
        ])
    }

    static func isJSONObject(_ s: String) -> Bool {
        guard s.first == "{", let d = s.data(using: .utf8) else { return false }
        return (try? JSONSerialization.jsonObject(with: d)) is [String: Any]
    }

    static func project(_ p: ProjectRecord) -> Value {
        .object([
            ("name", .string(p.name)),
            ("path", .string(p.path)),
            ("tasks", .int(Int64(p.taskCount))),
            ("created_at", .time(p.createdAt)),
        ])
    }
}
