import Foundation

/// A place where agents run: this machine, or a remote VM reached over an exec API.
///
/// Everything a task runner needs goes through these few operations, so the same runner drives a
/// local sandbox and a remote one. Paths are paths inside the sandbox.
public protocol Sandbox: Sendable {
    /// The home directory of the user commands run as (inside the sandbox).
    var homeDirectory: String { get }

    /// Runs `argv` to completion and returns its exit status and output.
    ///
    /// - Parameters:
    ///   - argv: the program (looked up in `PATH` when it has no `/`) and its arguments.
    ///   - cwd: the working directory; nil for the sandbox's default.
    ///   - env: variables set on top of the sandbox's default environment.
    ///   - stdin: bytes fed to the command's standard input, which is then closed; nil for none.
    /// - Returns: the result; a program that cannot be found or started yields status 127 and a
    ///   message on stderr, like a shell. Throws only when the sandbox itself fails.
    ///   Cancelling the calling task terminates the command.
    func run(_ argv: [String], cwd: String?, env: [String: String], stdin: Data?) async throws -> CommandResult

    /// Creates or replaces the file at `path` with `data` and permission bits `mode` (e.g. `0o600`).
    /// The parent directory must exist.
    func writeFile(path: String, data: Data, mode: Int) async throws

    /// The whole content of the file at `path`; throws ``SandboxError/fileNotFound(_:)`` when missing.
    func readFile(path: String) async throws -> Data

    /// The size in bytes of the file at `path`, or nil when nothing is there.
    func fileSize(path: String) async throws -> Int64?

    /// Starts a long-lived command and delivers its standard output as it arrives. A remote
    /// sandbox yields one empty chunk once the command started (so a reader knows it is connected).
    ///
    /// The stream finishes when the command exits: normally on status 0, otherwise with
    /// ``SandboxError/commandFailed(argv:status:stderr:)``. Ending the iteration — cancelling the
    /// consuming task or dropping the stream — terminates the command.
    func stream(_ argv: [String]) -> AsyncThrowingStream<[UInt8], any Error>

    /// Hands this process's terminal to `argv` (e.g. `tmux attach`) until it exits, and returns
    /// its exit status. Blocks the calling thread.
    func interactive(_ argv: [String]) throws -> Int32

    /// Starts opening what commands need (a connection), without waiting: the first command
    /// then pays no handshake. Nothing to do for a local sandbox.
    func warmUp()
}

extension Sandbox {
    public func warmUp() {}

    /// Runs `argv` with the default directory and environment and no input.
    public func run(_ argv: [String]) async throws -> CommandResult {
        try await run(argv, cwd: nil, env: [:], stdin: nil)
    }

    /// Runs `argv` and throws ``SandboxError/commandFailed(argv:status:stderr:)`` unless it exits 0.
    @discardableResult
    public func runChecked(_ argv: [String], cwd: String? = nil, env: [String: String] = [:], stdin: Data? = nil) async throws -> CommandResult {
        let result = try await run(argv, cwd: cwd, env: env, stdin: stdin)
        guard result.status == 0 else {
            throw SandboxError.commandFailed(argv: argv, status: result.status, stderr: result.stderrText)
        }
        return result
    }

    /// Runs a read-only command, once more if the connection to the sandbox is lost before its
    /// exit status (a remote sandbox; spec §4.4: re-run only what is safe to run twice).
    public func probe(_ argv: [String], cwd: String? = nil, env: [String: String] = [:]) async throws -> CommandResult {
        do {
            return try await run(argv, cwd: cwd, env: env, stdin: nil)
        } catch SandboxError.connectionLost {
            try await Task.sleep(for: .milliseconds(200))
            return try await run(argv, cwd: cwd, env: env, stdin: nil)
        }
    }

    /// The bytes of the file at `path` from byte `offset` on (`tail -c +N`, one command however
    /// remote the sandbox), at most `limit` of them, or nil when there is no such file. Read-only: run again on a lost
    /// connection.
    public func bytes(of path: String, from offset: Int64, limit: Int64? = nil) async throws -> Data? {
        let script = limit == nil
            ? #"[ -e "$1" ] || exit 3; exec tail -c "+$2" "$1""#
            : #"[ -e "$1" ] || exit 3; tail -c "+$2" "$1" | head -c "$3""#
        let r = try await probe(["sh", "-c", script, "sh", path, String(offset + 1)] + (limit.map { [String($0)] } ?? []))
        if r.status == 3 { return nil }
        guard r.status == 0 else { throw SandboxError.commandFailed(argv: ["tail", path], status: r.status, stderr: r.stderrText) }
        return r.stdout
    }

    /// Creates the directory `path` and any missing parents (`mkdir -p`).
    public func createDirectory(path: String) async throws {
        try await runChecked(["mkdir", "-p", "--", path])
    }

    /// Whether a file (or directory) exists at `path`.
    public func fileExists(path: String) async throws -> Bool {
        try await fileSize(path: path) != nil
    }
}

/// What a finished command returned.
public struct CommandResult: Sendable, Equatable {
    /// The exit status; for a command killed by signal N, 128 + N (as a shell reports it).
    public var status: Int32
    /// Everything it wrote to standard output.
    public var stdout: Data
    /// Everything it wrote to standard error.
    public var stderr: Data

    /// Creates a result.
    public init(status: Int32, stdout: Data = Data(), stderr: Data = Data()) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether the command exited 0.
    public var succeeded: Bool { status == 0 }
    /// Standard output decoded as UTF-8 (invalid bytes replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error decoded as UTF-8 (invalid bytes replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Failures of sandbox operations.
public enum SandboxError: Error, Equatable, CustomStringConvertible {
    /// A command exited with a non-zero status where success was required.
    case commandFailed(argv: [String], status: Int32, stderr: String)
    /// No file at the path.
    case fileNotFound(String)
    /// A system call or transport failed.
    case io(String)
    /// The connection to a remote sandbox was lost before the command's exit status: it may or
    /// may not have run.
    case connectionLost(String)
    /// The sandbox cannot take commands now but will later (a remote account's limit): why, and
    /// after how many seconds to try again.
    case unavailable(String, retryAfter: Double)

    public var description: String {
        switch self {
        case .commandFailed(let argv, let status, let stderr):
            let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(argv.joined(separator: " ")) exited \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .io(let message):
            return message
        case .connectionLost(let reason):
            return "the connection to the sandbox was lost (\(reason))"
        case .unavailable(let reason, _):
            return reason
        }
    }
}
