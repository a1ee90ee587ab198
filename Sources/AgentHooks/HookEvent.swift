/// Names of the Claude Code hook events `task` subscribes to, plus the records it writes itself.
public enum HookEvent {
    public static let sessionStart = "SessionStart"
    public static let userPromptSubmit = "UserPromptSubmit"
    public static let preToolUse = "PreToolUse"
    public static let permissionRequest = "PermissionRequest"
    public static let postToolUse = "PostToolUse"
    public static let postToolUseFailure = "PostToolUseFailure"
    public static let notification = "Notification"
    public static let stop = "Stop"
    public static let stopFailure = "StopFailure"
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
