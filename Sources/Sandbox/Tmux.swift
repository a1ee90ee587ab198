import AgentHooks
import Foundation

/// Controls `task`'s own tmux server (`tmux -L <socket>`) in a ``Sandbox`` — never the user's default
/// server. Panes are addressed by id (`%N`), never by index (spec §10).
///
/// Text is typed the way Claude Code's TUI needs it (spec §10): literal text (`send-keys -l`), or a
/// bracketed paste for multi-line text, then, after a pause, Enter as a separate command. One
/// writer per pane: concurrent ``sendText(pane:text:)``/``sendKeys(pane:keys:)`` calls on the same
/// pane run one after another.
public struct Tmux: Sendable {
    /// A tmux command failed.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        /// The tmux arguments (after `-L <socket>`).
        public var arguments: [String]
        /// Its exit status.
        public var status: Int32
        /// What it printed on stderr.
        public var stderr: String

        public var description: String {
            "tmux \(arguments.joined(separator: " ")) exited \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    /// Where tmux runs.
    public let sandbox: any Sandbox
    /// The server's socket name (`-L`).
    public let socket: String
    /// The session that holds the task windows.
    public let session: String
    /// The session's window size.
    public let width: Int, height: Int
    /// The pause between typed text and its Enter (Ink treats a fast burst as a paste).
    public let enterDelay: Duration
    /// The key that submits (`Enter`; some report `C-m` more reliable).
    public let submitKey: String
    /// The tmux program.
    public let tmuxPath: String
    /// The configuration file the server loads when it starts (`-f`); `/dev/null` by default, so the
    /// user's `~/.tmux.conf` (say, `remain-on-exit` or `extended-keys`) cannot change how panes
    /// behave or how keys arrive. Nil loads tmux's usual files.
    public let configFile: String?
    private let serializer = KeyedSerializer()

    /// Describes the tmux server `socket` in `sandbox`.
    public init(
        sandbox: any Sandbox,
        socket: String,
        session: String = "task",
        width: Int = 200,
        height: Int = 50,
        enterDelay: Duration = .milliseconds(150),
        submitKey: String = "Enter",
        tmuxPath: String = "tmux",
        configFile: String? = "/dev/null"
    ) {
        self.sandbox = sandbox
        self.socket = socket
        self.session = session
        self.width = width
        self.height = height
        self.enterDelay = enterDelay
        self.submitKey = submitKey
        self.tmuxPath = tmuxPath
        self.configFile = configFile
    }

    // MARK: - Session and windows

    /// Starts the server and the session when they are not running: detached, `width`×`height`,
    /// `remain-on-exit off` (a window closes when its command ends). The session's first window
    /// runs an idle placeholder so the session outlives every task window.
    public func ensureSession() async throws {
        if try await hasSession() { return }
        let created = try await tmux(["new-session", "-d", "-s", session, "-n", "idle", "-x", String(width), "-y", String(height),
                                      "tail", "-f", "/dev/null"], check: false)
        if created.status != 0 {
            // Another caller may have created it meanwhile.
            guard try await hasSession() else {
                throw Failure(arguments: ["new-session", "-s", session], status: created.status, stderr: created.stderrText)
            }
        }
        try await tmux(["set-option", "-g", "-w", "remain-on-exit", "off"])
    }

    /// Whether the session exists (false when the server is not running).
    public func hasSession() async throws -> Bool {
        try await tmux(["has-session", "-t", "=" + session], check: false, readOnly: true).status == 0
    }

    /// Opens a detached window named `name` running `command` (argv, executed without a shell when
    /// it has several words) in `cwd`, and returns its pane id (`%N`).
    public func newWindow(name: String, cwd: String? = nil, command: [String]) async throws -> String {
        var arguments = ["new-window", "-d", "-P", "-F", "#{pane_id}", "-t", session + ":", "-n", name]
        if let cwd { arguments += ["-c", cwd] }
        arguments += command.map(Self.escapeTrailingSemicolon)
        let result = try await tmux(arguments)
        let pane = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard pane.hasPrefix("%") else {
            throw Failure(arguments: arguments, status: result.status, stderr: "unexpected pane id \(pane)")
        }
        return pane
    }

    /// POSIX `sh` lines doing ``ensureSession()`` and ``newWindow(name:cwd:command:)`` in one go
    /// (for a launch folded into one remote command): they print the new pane's id.
    public func newWindowScript(name: String, cwd: String?, command: [String]) -> String {
        let t = serverArguments.map(ShellQuote.quote).joined(separator: " ")
        var window = ["new-window", "-d", "-P", "-F", "#{pane_id}", "-t", session + ":", "-n", name]
        if let cwd { window += ["-c", cwd] }
        window += command.map(Self.escapeTrailingSemicolon)
        let newSession = ["new-session", "-d", "-s", session, "-n", "idle", "-x", String(width), "-y", String(height), "tail", "-f", "/dev/null"]
        return """
            if ! \(t) has-session -t \(ShellQuote.quote("=" + session)) 2>/dev/null; then
              \(t) \(newSession.map(ShellQuote.quote).joined(separator: " ")) 2>/dev/null || \(t) has-session -t \(ShellQuote.quote("=" + session)) || exit 1
              \(t) set-option -g -w remain-on-exit off
            fi
            \(t) \(window.map(ShellQuote.quote).joined(separator: " "))
            """
    }

    /// POSIX `sh` lines doing what ``sendText(pane:text:)`` does (text, the pause, Enter), for a
    /// remote sandbox where they run as one command; they print nothing.
    public func typeScript(pane: String, text: String) -> String {
        let text = Self.normalizeForSubmission(text)
        let t = serverArguments.map(ShellQuote.quote).joined(separator: " ")
        let target = ShellQuote.quote(pane)
        var lines: [String] = []
        if text.contains("\n") || text.contains("\r") {
            let buffer = "task-\(UUID().uuidString)"
            lines.append("printf %s \(ShellQuote.quote(Data(text.utf8).base64EncodedString())) | base64 -d | \(t) load-buffer -b \(buffer) -")
            lines.append("\(t) paste-buffer -p -d -b \(buffer) -t \(target)")
        } else if !text.isEmpty {
            lines.append("\(t) send-keys -l -t \(target) -- \(ShellQuote.quote(Self.escapeTrailingSemicolon(text)))")
        }
        if !text.isEmpty {
            let (seconds, attoseconds) = enterDelay.components
            lines.append("sleep \(Double(seconds) + Double(attoseconds) / 1e18)")
        }
        lines.append("\(t) send-keys -t \(target) \(ShellQuote.quote(submitKey))")
        return lines.joined(separator: "\n")
    }

    /// POSIX `sh` lines printing the pane's id when it exists (else failing), then its screen.
    public func lookScript(pane: String) -> String {
        let t = serverArguments.map(ShellQuote.quote).joined(separator: " ")
        return "\(t) display-message -p -t \(ShellQuote.quote(pane)) '#{pane_id}' && \(t) capture-pane -p -t \(ShellQuote.quote(pane))"
    }

    /// Whether pane `pane` still exists.
    public func paneExists(_ pane: String) async throws -> Bool {
        let result = try await tmux(["display-message", "-p", "-t", pane, "#{pane_id}"], check: false, readOnly: true)
        return result.status == 0 && result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == pane
    }

    /// Every pane of the server, in one command; empty when the server is not running (a restart
    /// of the machine, a kill-server); nil when tmux answers something else (nothing can be told).
    public func livePanes() async throws -> Set<String>? {
        let result = try await tmux(["list-panes", "-a", "-F", "#{pane_id}"], check: false, readOnly: true)
        if result.status == 0 {
            return Set(result.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        let said = result.stderrText.lowercased()
        // "no server running on /tmp/tmux-0/task", or "error connecting to … (No such file or directory)".
        return said.contains("no server running") || said.contains("no such file or directory") ? [] : nil
    }

    /// Closes the window holding `pane` (its command gets SIGHUP).
    public func killWindow(pane: String) async throws {
        try await tmux(["kill-window", "-t", pane])
    }

    /// Stops the whole server (every window) and removes its socket file (tmux leaves it behind);
    /// no error when it is not running.
    public func killServer() async throws {
        try await tmux(["kill-server"], check: false)
        let removeSocket = #"""
            socket="${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$1"
            if [ -S "$socket" ] && ! "$2" -L "$1" list-sessions >/dev/null 2>&1; then rm -f "$socket"; fi
            """#
        _ = try await sandbox.run(["sh", "-c", removeSocket, "sh", socket, tmuxPath], cwd: nil, env: [:], stdin: nil)
    }

    /// The argv that attaches a terminal to the session, showing `pane`'s window. `TMUX` is unset so
    /// it also works from inside another tmux. Run it with ``Sandbox/interactive(_:)``; tmux's
    /// detach key returns.
    public func attachCommand(pane: String) -> [String] {
        ["env", "-u", "TMUX"] + serverArguments + ["attach-session", "-t", pane]
    }

    // MARK: - Input and output

    /// Types `text` into `pane` and submits it (spec §10).
    ///
    /// One line: `send-keys -l -t <pane> -- <text>` (a trailing `;` escaped as `\;`). Several lines:
    /// `load-buffer -b <name> -` with the text on stdin, then `paste-buffer -p -d -b <name> -t <pane>`
    /// (a bracketed paste when the application asked for one). Then, after ``enterDelay``, a separate
    /// ``submitKey``. `\r\n` becomes `\n` and trailing newlines are dropped; empty text only submits.
    public func sendText(pane: String, text: String) async throws {
        let text = Self.normalizeForSubmission(text)
        try await serializer.run(pane) {
            if text.contains("\n") || text.contains("\r") {
                let buffer = "task-\(UUID().uuidString)"
                try await tmux(["load-buffer", "-b", buffer, "-"], stdin: Data(text.utf8))
                try await tmux(["paste-buffer", "-p", "-d", "-b", buffer, "-t", pane])
            } else if !text.isEmpty {
                try await tmux(["send-keys", "-l", "-t", pane, "--", Self.escapeTrailingSemicolon(text)])
            }
            if !text.isEmpty { try await Task.sleep(for: enterDelay) }
            try await tmux(["send-keys", "-t", pane, submitKey])
        }
    }

    /// Sends tmux key names to `pane` (`Escape`, `Enter`, `C-c`, `1`, …), each as a key, in order.
    public func sendKeys(pane: String, keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        _ = try await serializer.run(pane) {
            try await tmux(["send-keys", "-t", pane] + keys.map(Self.escapeTrailingSemicolon))
        }
    }

    /// The visible text of `pane` (`capture-pane -p`).
    public func capturePane(pane: String) async throws -> String {
        try await tmux(["capture-pane", "-p", "-t", pane], readOnly: true).stdoutText
    }

    // MARK: - Helpers

    /// `\r\n` → `\n`, trailing line breaks dropped (the submit key follows anyway).
    static func normalizeForSubmission(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "\r\n", with: "\n")
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// tmux reads an argument ending in `;` as a command separator (and drops it); `\;` is the
    /// escape, which tmux turns back into `;`.
    static func escapeTrailingSemicolon(_ word: String) -> String {
        word.hasSuffix(";") ? String(word.dropLast()) + "\\;" : word
    }

    /// `tmux -L <socket> [-f <config>]`.
    var serverArguments: [String] {
        [tmuxPath, "-L", socket] + (configFile.map { ["-f", $0] } ?? [])
    }

    /// Runs `tmux -L <socket> <arguments>`; throws ``Failure`` on a non-zero status when `check`.
    /// A `readOnly` command is run again if a remote sandbox lost the connection.
    @discardableResult
    func tmux(_ arguments: [String], stdin: Data? = nil, check: Bool = true, readOnly: Bool = false) async throws -> CommandResult {
        let result = readOnly
            ? try await sandbox.probe(serverArguments + arguments)
            : try await sandbox.run(serverArguments + arguments, cwd: nil, env: [:], stdin: stdin)
        if check && result.status != 0 {
            throw Failure(arguments: arguments, status: result.status, stderr: result.stderrText)
        }
        return result
    }
}

