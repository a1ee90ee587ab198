/// A setting `config` knows: its default, what values it takes, and an environment override.
public struct SettingDefinition: Sendable {
    public enum ValueKind: Sendable {
        case text
        case positiveInteger
        /// A whole number from 1 to `max`.
        case count(max: Int)
        /// A whole number above 0, or empty for the default the summary names.
        case optionalPositiveInteger
        /// Seconds (fractions allowed), 0 and up, at most `max`.
        case seconds(max: Double)
        case boolean
        case choice([String])
        /// Any text, empty allowed (empty turns the feature off).
        case optionalText
        /// An amount in US dollars, 0 and up; empty, `off` or 0 turn it off.
        case dollars
    }

    public let key: String
    public let defaultValue: String
    public let kind: ValueKind
    public let environment: String?
    public let summary: String

    /// Checks and normalizes a value ("ON" → "on"); throws a usage error naming the key.
    public func normalize(_ value: String) throws -> String {
        switch kind {
        case .text:
            guard !value.isEmpty else { throw TaskError.usage("\(key) cannot be empty") }
            return value
        case .positiveInteger:
            guard let n = Int(value), n > 0 else {
                throw TaskError.usage("\(key) takes a whole number above 0, not '\(value)'")
            }
            return String(n)
        case .count(let max):
            guard let n = Int(value), n > 0, n <= max else {
                throw TaskError.usage("\(key) takes a whole number from 1 to \(max), not '\(value)'")
            }
            return String(n)
        case .optionalPositiveInteger:
            if value.isEmpty { return value }
            guard let n = Int(value), n > 0 else {
                throw TaskError.usage("\(key) takes a whole number above 0 (or nothing, for the default), not '\(value)'")
            }
            return String(n)
        case .seconds(let max):
            guard let n = Double(value), n.isFinite, n >= 0, n <= max else {
                throw TaskError.usage("\(key) takes a number of seconds from 0 to \(Int(max)) (0 turns it off), not '\(value)'")
            }
            return n == n.rounded() ? String(Int(n)) : String(n)
        case .boolean:
            switch value.lowercased() {
            case "on", "true", "yes", "1": return "on"
            case "off", "false", "no", "0": return "off"
            default: throw TaskError.usage("\(key) takes on or off, not '\(value)'")
            }
        case .optionalText:
            return value
        case .dollars:
            let v = value.trimmingCharacters(in: .whitespaces).lowercased()
            if v.isEmpty || v == "off" || v == "none" { return "0" }
            let digits = v.hasPrefix("$") ? String(v.dropFirst()) : v
            guard let n = Double(digits), n.isFinite, n >= 0 else {
                throw TaskError.usage("\(key) takes an amount in dollars such as 2.50 (0 or off turns it off), not '\(value)'")
            }
            return n == n.rounded() ? String(Int(n)) : String(n)
        case .choice(let values):
            guard values.contains(value) else {
                throw TaskError.usage("\(key) takes one of \(values.joined(separator: ", ")), not '\(value)'")
            }
            return value
        }
    }

    /// Values offered by Tab completion.
    public var suggestions: [String] {
        switch kind {
        case .boolean: ["on", "off"]
        case .choice(let values): values
        default: []
        }
    }
}

/// Every setting there is. Secrets are not settings: they never enter the database.
public enum Settings {
    public static let all: [SettingDefinition] = [
        SettingDefinition(
            key: "agent", defaultValue: "claude", kind: .text, environment: "TASK_AGENT",
            summary: "the agent command started for each task"),
        SettingDefinition(
            key: "max_running", defaultValue: "4", kind: .positiveInteger, environment: nil,
            summary: "how many tasks may run at once; more wait as queued"),
        SettingDefinition(
            key: "permission_mode", defaultValue: "default",
            kind: .choice(["default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions"]),
            environment: nil,
            summary: "the agent's permission mode (bypassPermissions = --dangerously-skip-permissions)"),
        SettingDefinition(
            key: "trust_workspace", defaultValue: "on", kind: .boolean, environment: nil,
            summary: "pre-trust each task's folder in the agent's config so its hooks fire"),
        SettingDefinition(
            key: "verbose", defaultValue: "on", kind: .boolean, environment: nil,
            summary: "show every hook event above the prompt (off: status changes only)"),
        SettingDefinition(
            key: "agent_env", defaultValue: "ANTHROPIC_API_KEY,ANTHROPIC_AUTH_TOKEN,CLAUDE_CODE_OAUTH_TOKEN",
            kind: .text, environment: nil,
            summary: "environment variables passed to the agent's pane (0600 script, never argv or the database)"),
        SettingDefinition(
            key: "start_timeout", defaultValue: "15", kind: .seconds(max: 3600), environment: nil,
            summary: "seconds without a hook after a launch before the task is blocked quoting the agent's start-up screen (0: off)"),
        SettingDefinition(
            key: "sprite.name", defaultValue: "task-sandbox", kind: .text, environment: nil,
            summary: "the sprite that tasks run on (the first of the pool; the others are <name>-2, <name>-3, …)"),
        SettingDefinition(
            key: "sprite.pool", defaultValue: "1", kind: .count(max: 50), environment: nil,
            summary: "how many sprites tasks may run on (1 to 50), each made and provisioned on first need"),
        SettingDefinition(
            key: "sprite.tasks_per_sprite", defaultValue: "", kind: .optionalPositiveInteger, environment: nil,
            summary: "how many tasks one sprite takes at once (empty: max_running, one shared sprite); 1 gives each task a sprite of its own"),
        SettingDefinition(
            key: "sprite.start_checkpoint", defaultValue: "auto", kind: .choice(["auto", "on", "off"]), environment: nil,
            summary: "checkpoint a sprite (task #N start) before a task first starts there, for rewind (auto: with sprite.tasks_per_sprite 1)"),
        SettingDefinition(
            key: "sprite.fresh", defaultValue: "off", kind: .boolean, environment: nil,
            summary: "restore a sprite's provisioning checkpoint before each new task (with sprite.tasks_per_sprite 1)"),
        SettingDefinition(
            key: "sprite.agent", defaultValue: "claude", kind: .text, environment: "TASK_SPRITE_AGENT",
            summary: "the agent command on the sprite"),
        SettingDefinition(
            key: "sprite.permission_mode", defaultValue: "bypassPermissions",
            kind: .choice(["default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions"]),
            environment: nil,
            summary: "the agent's permission mode on the sprite (an isolated VM: skipping prompts is safe)"),
        SettingDefinition(
            key: "max_cost_usd", defaultValue: "0", kind: .dollars, environment: nil,
            summary: "a task whose agent's cost passes this many dollars is interrupted and blocked (0: no limit)"),
        SettingDefinition(
            key: "notify", defaultValue: "bell", kind: .choice(["off", "bell", "desktop"]), environment: nil,
            summary: "how a shell tells you an agent waits or finished: off, bell (BEL), desktop (OSC 9 / OSC 777)"),
        SettingDefinition(
            key: "notify_on", defaultValue: "all", kind: .choice(["waiting", "finished", "all"]), environment: nil,
            summary: "which changes notify: waiting (permission, question, start-up, budget), finished (turn ended, done, failed), all"),
        SettingDefinition(
            key: "notify_command", defaultValue: "", kind: .optionalText, environment: nil,
            summary: "run by /bin/sh -c on each notification, with TASK_ID, TASK_STATUS, TASK_TITLE, TASK_DETAIL, TASK_REASON set (empty: none)"),
    ]

    public static func definition(_ key: String) throws -> SettingDefinition {
        if let d = all.first(where: { $0.key == key }) { return d }
        let known = all.map(\.key).joined(separator: ", ")
        throw TaskError.usage("unknown setting '\(key)' (known: \(known))")
    }
}
