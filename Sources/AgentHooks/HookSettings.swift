import Foundation

/// The per-task Claude Code settings file passed with `--settings`: one command hook per subscribed
/// event, each running ``HookScript`` with the task id and the event name (spec §1.1, §1.2).
///
/// Shape (the real schema: event → matcher groups → handlers):
/// ```json
/// {"hooks": {"PreToolUse": [{"matcher": "*",
///                            "hooks": [{"type": "command", "timeout": 10,
///                                       "command": "sh '/x/hook.sh' 3 PreToolUse '/x/hooks.log'"}]}],
///            "Stop": [{"hooks": [{"type": "command", "timeout": 10, "command": "…"}]}]}}
/// ```
/// `"matcher"` is written only for events that take one (``HookEvent/withMatcher``).
public struct HookSettings: Sendable, Equatable {
    /// The task whose events the hooks record.
    public var taskID: Int64
    /// Where ``HookScript/text`` is installed (in the sandbox).
    public var hookScriptPath: String
    /// The hook log the script appends to (in the sandbox).
    public var hookLogPath: String
    /// Each handler's timeout in seconds.
    public var timeoutSeconds: Int
    /// The events to subscribe to.
    public var events: [String]
    /// Also write `"skipDangerousModePermissionPrompt": true`, which spares the one-time
    /// `--dangerously-skip-permissions` warning (spec §6).
    public var skipDangerousModePrompt: Bool

    /// Creates the settings for one task.
    public init(
        taskID: Int64,
        hookScriptPath: String,
        hookLogPath: String,
        timeoutSeconds: Int = 10,
        events: [String] = HookEvent.subscribed,
        skipDangerousModePrompt: Bool = false
    ) {
        self.taskID = taskID
        self.hookScriptPath = hookScriptPath
        self.hookLogPath = hookLogPath
        self.timeoutSeconds = timeoutSeconds
        self.events = events
        self.skipDangerousModePrompt = skipDangerousModePrompt
    }

    /// The `sh -c` command line of the hook for `event`:
    /// `sh '<hook script>' <task id> <event> '<hook log>'`, every path single-quoted.
    public func command(for event: String) -> String {
        ["sh", ShellQuote.quote(hookScriptPath), String(taskID), ShellQuote.quoteIfNeeded(event), ShellQuote.quote(hookLogPath)]
            .joined(separator: " ")
    }

    /// The settings document as JSON-compatible values.
    public func jsonObject() -> [String: Any] {
        var hooks: [String: Any] = [:]
        for event in events {
            var group: [String: Any] = [
                "hooks": [["type": "command", "command": command(for: event), "timeout": timeoutSeconds] as [String: Any]],
            ]
            if HookEvent.withMatcher.contains(event) { group["matcher"] = "*" }
            hooks[event] = [group]
        }
        var settings: [String: Any] = ["hooks": hooks]
        if skipDangerousModePrompt { settings["skipDangerousModePermissionPrompt"] = true }
        return settings
    }

    /// The settings file's bytes: pretty-printed JSON with sorted keys and a final newline.
    public func jsonData() throws -> Data {
        var data = try JSONSerialization.data(
            withJSONObject: jsonObject(),
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        )
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
