/// The argv that launches the agent (`claude`) for a task (spec §6).
///
/// Fresh session: `<agent> --session-id <uuid> --settings <file> [permissions] [--model m] [extra…] -- <prompt>`;
/// resume: `<agent> --resume <id> --settings <file> … -- <feedback>`. The prompt always follows `--`
/// as one element, so a variadic flag in `extraArguments` cannot swallow it.
public struct AgentCommand: Sendable, Equatable {
    /// How the session starts.
    public enum Session: Sendable, Equatable {
        /// A new session with this id (`--session-id`; Claude requires a UUID).
        case new(id: String)
        /// Continue an earlier session (`--resume`).
        case resume(id: String)
    }

    /// How the agent asks for permission.
    public enum Permissions: Sendable, Equatable {
        /// Claude's own configuration decides (no flag).
        case configured
        /// `--dangerously-skip-permissions` (only where the sandbox makes it safe).
        case skip
        /// `--permission-mode <mode>` (`default`, `acceptEdits`, `plan`, `auto`, `dontAsk`, …).
        case mode(String)
    }

    /// The agent executable (name or path); `claude` by default.
    public var agent: String
    /// New or resumed session.
    public var session: Session
    /// The per-task settings file (``HookSettings``).
    public var settingsPath: String
    /// Permission handling.
    public var permissions: Permissions
    /// `--model`, when set.
    public var model: String?
    /// Further options placed before `--` (may include variadic flags).
    public var extraArguments: [String]

    /// Describes an agent launch.
    public init(
        agent: String = "claude",
        session: Session,
        settingsPath: String,
        permissions: Permissions = .configured,
        model: String? = nil,
        extraArguments: [String] = []
    ) {
        self.agent = agent
        self.session = session
        self.settingsPath = settingsPath
        self.permissions = permissions
        self.model = model
        self.extraArguments = extraArguments
    }

    /// Everything up to and including `--`; the prompt goes after it.
    public var argumentsBeforePrompt: [String] {
        var argv = [agent]
        switch session {
        case .new(let id): argv += ["--session-id", id]
        case .resume(let id): argv += ["--resume", id]
        }
        argv += ["--settings", settingsPath]
        switch permissions {
        case .configured: break
        case .skip: argv.append("--dangerously-skip-permissions")
        case .mode(let mode): argv += ["--permission-mode", mode]
        }
        if let model, !model.isEmpty { argv += ["--model", model] }
        argv += extraArguments
        argv.append("--")
        return argv
    }

    /// The full argv with `prompt` (the initial prompt, or the feedback for a resume) as the last element.
    public func argv(prompt: String) -> [String] {
        argumentsBeforePrompt + [prompt]
    }
}
