/// Names of the Claude Code hook events `task` subscribes to, plus the records it writes itself.
public enum HookEvent {
    /// Session began or resumed (`source`).
    public static let sessionStart = "SessionStart"
    /// A prompt was submitted (`prompt`).
    public static let userPromptSubmit = "UserPromptSubmit"
    /// A tool is about to run (`tool_name`, `tool_input`).
    public static let preToolUse = "PreToolUse"
    /// A permission dialog is about to appear.
    public static let permissionRequest = "PermissionRequest"
    /// A tool call succeeded.
    public static let postToolUse = "PostToolUse"
    /// A tool call failed (`error`).
    public static let postToolUseFailure = "PostToolUseFailure"
    /// A notification (`notification_type`, `message`).
    public static let notification = "Notification"
    /// The turn finished; the agent waits for input.
    public static let stop = "Stop"
    /// The turn ended with an API error (`error`).
    public static let stopFailure = "StopFailure"
    /// The session ended (`reason`).
    public static let sessionEnd = "SessionEnd"

    /// Written by the pane script when the agent process ends (`data.exit_code`); not a Claude event.
    public static let agentExit = "AgentExit"
    /// The event name given to a hook-log line that could not be parsed.
    public static let malformed = "malformed"

    /// Every Claude Code event the per-task settings subscribe to, in lifecycle order.
    public static let subscribed: [String] = [
        sessionStart, userPromptSubmit, preToolUse, permissionRequest, postToolUse,
        postToolUseFailure, notification, stop, stopFailure, sessionEnd,
    ]

    /// The subscribed events whose matcher groups take a `matcher` (spec §1.1). `UserPromptSubmit`
    /// and `Stop` have none: a matcher there is ignored, so none is written.
    public static let withMatcher: Set<String> = [
        sessionStart, preToolUse, permissionRequest, postToolUse, postToolUseFailure,
        notification, stopFailure, sessionEnd,
    ]
}
