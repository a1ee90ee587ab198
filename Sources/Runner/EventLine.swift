import AgentHooks
import TaskCore

/// One short line per event for the stream above the prompt: `#3 ▸ Bash  npm test`.
public enum EventLine {
    /// The line for an ingested event, or nil when `verbose` is off and nothing changed status.
    public static func render(_ e: IngestedEvent, verbose: Bool) -> String? {
        let id = e.record.taskID.map { "#\($0)" } ?? "#?"
        if let t = e.transition {
            switch t.status {
            case .done: return "\(id) ✓ done (exit \(t.exitCode ?? 0))"
            case .failed: return "\(id) ✗ failed (exit \(t.exitCode.map(String.init) ?? "?"))"
            case .blocked: return "\(id) ⏸ \(t.detail ?? "blocked")"
            case .processing where !verbose: return "\(id) ▶ working"
            default: break
            }
        }
        guard verbose else { return nil }
        return activity(e.record, id: id)
    }

    /// A line for an event that changes nothing: what the agent is doing.
    public static func activity(_ r: HookRecord, id: String) -> String? {
        if r.event == "malformed" { return "\(id) ? unreadable hook line (\(r.malformedReason ?? "malformed"))" }
        return activity(event: r.event, toolName: r.toolName, summary: r.summary, id: id)
    }

    /// A line for a stored event that changes nothing: what the agent is doing.
    public static func activity(event: String, toolName: String?, summary: String, id: String) -> String? {
        let r = (event: event, toolName: toolName, summary: summary)
        switch r.event {
        case "PreToolUse":
            let glyph: String
            switch r.toolName ?? "" {
            case "Edit", "Write", "MultiEdit", "NotebookEdit": glyph = "✎"
            case "Read", "Glob", "Grep", "LS": glyph = "⌕"
            default: glyph = "▸"
            }
            return "\(id) \(glyph) \(r.toolName ?? "tool")  \(r.summary)"
        case "PostToolUse", "SessionEnd", "Stop", "PermissionRequest", "AgentExit":
            return nil
        case "PostToolUseFailure": return "\(id) ! \(r.toolName ?? "tool") failed  \(r.summary)"
        case "UserPromptSubmit": return "\(id) ❯ \(r.summary)"
        case "SessionStart": return "\(id) ● agent started (\(r.summary))"
        case "Notification": return "\(id) … \(r.summary)"
        case "StopFailure": return "\(id) ! turn failed: \(r.summary)"
        case "malformed": return "\(id) ? unreadable hook line"
        default: return "\(id) · \(r.event)  \(r.summary)"
        }
    }
}
