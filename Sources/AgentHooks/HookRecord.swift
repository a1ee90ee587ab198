/// One line of a hook log, parsed: a Claude Code hook event, the wrapper's `AgentExit` record, or a
/// line that could not be parsed (`event == "malformed"`).
///
/// Lines are written by ``HookScript`` as
/// `{"task":<id>,"event":"<name>","ts":<epoch seconds>,"data":<the hook's stdin JSON object>}` and by
/// the pane script (``PaneScript``) as `{"task":<id>,"event":"AgentExit","ts":<epoch>,"data":{"exit_code":<n>}}`.
/// Parsing never fails and never traps: anything that is not such a line becomes a malformed record.
public struct HookRecord: Sendable, Equatable {
    /// The task the line belongs to (the outer `"task"`), when present.
    public var taskID: Int64?
    /// The event name: `data.hook_event_name` when present, else the outer `"event"`;
    /// ``HookEvent/agentExit`` for the wrapper's exit record, ``HookEvent/malformed`` for bad lines.
    public var event: String
    /// `data.tool_name` for tool events.
    public var toolName: String?
    /// One short display line (at most ``DisplayText/defaultLimit`` characters, no control characters).
    public var summary: String
    /// The line itself. For malformed lines the bytes are decoded lossily (invalid UTF-8 becomes
    /// U+FFFD) and cut to ``maxMalformedRawBytes``.
    public var raw: String
    /// The outer `"ts"`: when the hook script appended the line, in seconds since 1970.
    public var appendedAt: Double?
    /// `data.session_id`.
    public var sessionID: String?
    /// `data.transcript_path`.
    public var transcriptPath: String?
    /// `data.cwd`.
    public var cwd: String?
    /// `data.tool_use_id` (PreToolUse, PostToolUse, PostToolUseFailure).
    public var toolUseID: String?
    /// `data.notification_type` (Notification).
    public var notificationType: String?
    /// `data.exit_code` (AgentExit).
    public var exitCode: Int?
    /// `data.error` of a StopFailure (`rate_limit`, `overloaded`, …).
    public var errorType: String?
    /// `data.message` (Notification), `data.error` (PostToolUseFailure) or `data.error_details`
    /// (StopFailure).
    public var message: String?
    /// `data.last_assistant_message` (Stop, StopFailure).
    public var lastAssistantMessage: String?
    /// `data.prompt` (UserPromptSubmit), verbatim.
    public var prompt: String?
    /// `data.source` (SessionStart) or `data.reason` (SessionEnd).
    public var reason: String?
    /// True when the line was longer than the splitter's maximum and only its start was kept; the
    /// task, event, timestamp, session and tool name are then recovered from that start when possible.
    public var isTruncated: Bool
    /// Why the line is malformed; nil for good lines.
    public var malformedReason: String?

    /// How much of a malformed line ``raw`` keeps, in bytes (64 KiB).
    public static let maxMalformedRawBytes = 64 * 1024

    /// Creates a record from its parts; fields not given are nil.
    public init(
        event: String,
        taskID: Int64? = nil,
        toolName: String? = nil,
        summary: String = "",
        raw: String = "",
        appendedAt: Double? = nil,
        sessionID: String? = nil,
        transcriptPath: String? = nil,
        cwd: String? = nil,
        toolUseID: String? = nil,
        notificationType: String? = nil,
        exitCode: Int? = nil,
        errorType: String? = nil,
        message: String? = nil,
        lastAssistantMessage: String? = nil,
        prompt: String? = nil,
        reason: String? = nil,
        isTruncated: Bool = false,
        malformedReason: String? = nil
    ) {
        self.event = event
        self.taskID = taskID
        self.toolName = toolName
        self.summary = summary
        self.raw = raw
        self.appendedAt = appendedAt
        self.sessionID = sessionID
        self.transcriptPath = transcriptPath
        self.cwd = cwd
        self.toolUseID = toolUseID
        self.notificationType = notificationType
        self.exitCode = exitCode
        self.errorType = errorType
        self.message = message
        self.lastAssistantMessage = lastAssistantMessage
        self.prompt = prompt
        self.reason = reason
        self.isTruncated = isTruncated
        self.malformedReason = malformedReason
    }

    /// Parses one hook-log line (without its newline; a trailing `\r` is ignored).
    ///
    /// - Parameters:
    ///   - line: the line's bytes; any bytes at all are accepted.
    ///   - truncatedFrom: the line's full length when `line` is only its start (see
    ///     ``HookLineSplitter/Line/isTruncated``); such a line is not parsed as JSON, but its task,
    ///     event and timestamp are recovered from the start when they are there.
    public init(line: some Collection<UInt8>, truncatedFrom fullLength: Int? = nil) {
        self = HookRecordParser.parse(Array(line), fullLength: fullLength)
    }

    /// Parses one hook-log line given as text.
    public init(line: String) {
        self.init(line: Array(line.utf8))
    }

    /// Whether this is a malformed-line record.
    public var isMalformed: Bool { event == HookEvent.malformed }
}
