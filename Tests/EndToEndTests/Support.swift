import Foundation
import Processes
import Sandbox
import Testing

/// The built `task` binary, next to the test bundle (or $TASK_BIN).
let taskBinary: String = {
    if let b = ProcessInfo.processInfo.environment["TASK_BIN"] { return b }
    let dir = Bundle.main.executableURL?.deletingLastPathComponent()
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidate = dir.appendingPathComponent("task").path
    if !FileManager.default.fileExists(atPath: candidate) {
        // xctest bundles on Linux sit beside the products.
        candidate = dir.deletingLastPathComponent().appendingPathComponent("task").path
    }
    return candidate
}()

func makeTemporaryFolder() -> String {
    let dir = NSTemporaryDirectory() + "task-e2e-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

typealias RunResult = CommandResultText

/// A finished command's status and output as text.
struct CommandResultText {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs commands with a clean signal mask and default dispositions (the test runner's own
/// blocked signals would otherwise leak into tmux and the shell under test).
let sandbox = LocalSandbox()

func runCommand(_ argv: [String], env: [String: String] = [:], stdin: Data? = nil) async throws -> CommandResultText {
    let r = try await sandbox.run(argv, cwd: nil, env: env, stdin: stdin)
    return CommandResultText(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
}

/// A fresh data folder and a way to run `task` against it.
struct TaskEnv {
    let home: String
    var extraEnvironment: [String: String] = [:]

    init() { home = makeTemporaryFolder() + "/home" }

    /// Variables set for every run; NO_COLOR and TASK_AGENT are removed unless given here.
    var environment: [String: String] {
        var env = ["TASK_HOME": home]
        for (k, v) in extraEnvironment { env[k] = v }
        return env
    }

    /// Variables no test inherits: colour, the agent, and every credential or address of a real service.
    static let cleared = [
        "NO_COLOR", "TASK_AGENT", "TASK_TMUX_SOCKET", "TASK_SPRITE_AGENT", "TASK_DEBUG_TICKER", "SPRITES_TOKEN", "SPRITE_TOKEN",
        "SPRITES_API_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDECODE",
    ]

    var unsetArguments: [String] {
        Self.cleared.filter { extraEnvironment[$0] == nil }.flatMap { ["-u", $0] }
    }

    @discardableResult
    func run(_ args: [String], stdin: Data? = nil) async throws -> RunResult {
        try await runCommand(["/usr/bin/env"] + unsetArguments + [taskBinary] + args, env: environment, stdin: stdin ?? Data())
    }

    func script(_ text: String) async throws -> RunResult { try await run([], stdin: Data(text.utf8)) }
}

/// A tmux server of the test's own, holding one pane at a fixed size.
final class Terminal: Sendable {
    let socket = "task-test-\(UUID().uuidString.prefix(8))"

    static func open(command: String, environment: [String: String], width: Int = 100, height: Int = 24) async throws -> Terminal {
        let t = Terminal()
        let envPrefix = environment.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: " ")
        try await t.tmux(["new-session", "-d", "-x", String(width), "-y", String(height), "env \(envPrefix) \(command); echo EXITED=$?; sleep 60"])
        return t
    }

    /// Ends the tmux server.
    func close() async {
        _ = try? await tmux(["kill-server"])
    }

    @discardableResult
    func tmux(_ args: [String]) async throws -> String {
        let r = try await runCommand(["/usr/bin/env", "-u", "TMUX", "tmux", "-L", socket, "-f", "/dev/null"] + args)
        return r.stdout
    }

    /// Types text literally.
    func type(_ text: String) async throws { try await tmux(["send-keys", "-t", "0", "-l", "--", text]) }
    /// Presses keys by name (Enter, C-c, Up, Tab…).
    func press(_ keys: String...) async throws { try await tmux(["send-keys", "-t", "0"] + keys) }

    func screen() async throws -> String { try await tmux(["capture-pane", "-p", "-t", "0"]) }

    /// Types `line`, presses Enter, and waits until the screen shows `expected`; returns the screen.
    @discardableResult
    func submit(_ line: String, waitFor expected: String, timeout: Double = 10) async throws -> String {
        try await type(line)
        try await press("Enter")
        return try await waitFor(text: expected, timeout: timeout)
    }

    /// Waits until the screen satisfies `condition`; returns the screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 10, _ condition: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try await screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what); screen was:\n\(last)")
        return last
    }

    @discardableResult
    func waitFor(text: String, timeout: Double = 10) async throws -> String {
        try await waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }
}

func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// Runs a command to its end, synchronously (for clean-up in `defer`, which cannot await): the
/// process is gone when this returns. Ten seconds at most.
func runNow(_ argv: [String], env: [String: String] = [:]) {
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    environment["TMUX"] = nil
    guard let child = try? ChildProcess.spawn(
        executable: "/usr/bin/timeout", argv: ["timeout", "10"] + argv, environment: environment, cwd: nil,
        stdin: .null, stdout: .null, stderr: .null, newProcessGroup: false) else { return }
    _ = child.waitForExit()
}
