import AgentHooks

/// How hook events move a running task between statuses (DESIGN.md, "Status machine").
/// Events for tasks that are not running (backlog, done, failed, cancelled) change nothing.
public enum StatusMachine {
    public struct Transition: Equatable, Sendable {
        public var status: TaskStatus
        public var detail: String?
        public var exitCode: Int?
    }

    /// The detail of a task held at a start-up screen (the watchdog's quotation follows it).
    public static let startupWaitPrefix = "agent waiting at start-up"

    /// The change `record` makes to a task now in `status` (with `detail`), or nil.
    public static func transition(from status: TaskStatus, detail: String? = nil, on record: HookRecord) -> Transition? {
        guard status.isActive else { return nil }
        switch record.event {
        case "SessionStart":
            // Past a start-up screen (or out of the queue), the agent is up.
            let heldAtStartup = status == .blocked && detail?.hasPrefix(startupWaitPrefix) == true
            return status == .queued || heldAtStartup ? Transition(status: .processing) : nil
        case "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure":
            return status == .processing ? nil : Transition(status: .processing)
        case "Stop":
            let said = record.lastAssistantMessage.map { DisplayText.oneLine($0, limit: 80) }
            return Transition(status: .blocked, detail: "waiting for input" + (said.map { " — \"\($0)\"" } ?? ""))
        case "PermissionRequest":
            let tool = record.toolName.map { " for \($0)" } ?? ""
            return Transition(status: .blocked, detail: "waiting for permission\(tool)")
        case "Notification":
            switch record.notificationType {
            case "permission_prompt":
                return status == .blocked ? nil : Transition(status: .blocked, detail: "waiting for permission")
            case "idle_prompt":
                return status == .blocked ? nil : Transition(status: .blocked, detail: "waiting for input")
            default:
                return nil
            }
        case "StopFailure":
            return Transition(status: .blocked, detail: "turn failed: \(record.errorType ?? "unknown error")")
        case "AgentExit":
            let code = record.exitCode ?? -1
            return code == 0
                ? Transition(status: .done, detail: "agent exited 0", exitCode: 0)
                : Transition(status: .failed, detail: "agent exited \(code)", exitCode: code)
        default:
            return nil
        }
    }
}

/// Why a blocked task waits, in a word (`list` shows it; the shell's hint follows from it).
public enum BlockReason: String, Sendable {
    case permission, input, startup = "start-up", budget, turnFailed = "turn failed", other = "blocked"

    /// The reason a status detail gives.
    public init(detail: String?) {
        let d = detail ?? ""
        if d.hasPrefix("waiting for permission") {
            self = .permission
        } else if d.hasPrefix("waiting for input") {
            self = .input
        } else if d.hasPrefix(StatusMachine.startupWaitPrefix) {
            self = .startup
        } else if d.hasPrefix("budget reached") {
            self = .budget
        } else if d.hasPrefix("turn failed") {
            self = .turnFailed
        } else {
            self = .other
        }
    }
}
