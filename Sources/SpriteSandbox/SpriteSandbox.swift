import Foundation
import Sandbox
import Sprites

/// A ``Sandbox`` on a Fly.io sprite: commands run over the sprite's control channel (one
/// persistent WebSocket, spec §4.8; each command then costs no new connection) or, where the
/// sprite has none or the client's `controlMode` is off, an exec WebSocket each; files go
/// through the filesystem API; streams are long-lived execs on their own sockets, and the
/// terminal is handed over through a TTY exec.
///
/// An exec whose upgrade is refused never started, so it is retried with backoff (429 honouring
/// `Retry-After`, 502/503 right after a wake). A socket lost after the command started is not
/// retried here (the command may have run); it surfaces as ``SandboxError/io(_:)``.
public struct SpriteSandbox: Sandbox {
    public let client: SpritesClient
    /// The sprite's name.
    public let sprite: String
    /// `$HOME` on the sprite (read from the sprite, never assumed).
    public let homeDirectory: String
    /// How many times a refused exec upgrade is tried.
    public let attempts: Int

    public init(client: SpritesClient, sprite: String, homeDirectory: String, attempts: Int = 6) {
        self.client = client
        self.sprite = sprite
        self.homeDirectory = homeDirectory
        self.attempts = attempts
    }

    /// Reads the sprite's home folder and returns a sandbox on it.
    public static func connect(client: SpritesClient, sprite: String) async throws -> SpriteSandbox {
        let probe = SpriteSandbox(client: client, sprite: sprite, homeDirectory: "/home/sprite")
        let r = try await probe.probe(["sh", "-c", "printf '%s\\n' \"$HOME\""])
        guard r.status == 0 else { throw SandboxError.commandFailed(argv: ["printf", "$HOME"], status: r.status, stderr: r.stderrText) }
        let home = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard home.hasPrefix("/") else { throw SandboxError.io("the sprite's $HOME is '\(home)', not a folder") }
        return SpriteSandbox(client: client, sprite: sprite, homeDirectory: home, attempts: probe.attempts)
    }

    // MARK: - Commands

    /// Runs `argv` over the control channel (else one exec); `env` is set with `env NAME=VALUE …`
    /// in front of the command (never secrets: they travel in 0600 files).
    public func run(_ argv: [String], cwd: String?, env: [String: String], stdin: Data?) async throws -> CommandResult {
        let full = env.isEmpty ? argv : ["env"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + argv
        let session = try await startShort(ExecCommand(full, directory: cwd, stdin: stdin != nil))
        do {
            if let stdin {
                var offset = 0
                let bytes = [UInt8](stdin)
                while offset < bytes.count {
                    let end = min(bytes.count, offset + 65536)
                    try await session.send(Array(bytes[offset..<end]))
                    offset = end
                }
                try await session.closeStdin()
            }
            let r = try await withTaskCancellationHandler {
                try await session.collect()
            } onCancel: {
                Task {
                    try? await session.signal("TERM")
                    await session.detach()
                }
            }
            return CommandResult(status: Int32(truncatingIfNeeded: r.exitCode), stdout: Data(r.stdout), stderr: Data(r.stderr))
        } catch let e as SpritesError {
            throw Self.sandboxError(e, argv: argv)
        }
    }

    /// Streams a command's stdout over one exec. The command may outlive a lost socket only
    /// briefly (`max_run_after_disconnect` 2 s), so dropped tails do not pile up on the sprite.
    public func stream(_ argv: [String]) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let pump = Task {
            do {
                let session = try await start(ExecCommand(argv, stdin: false, maxRunAfterDisconnect: "2s"))
                continuation.yield([])
                var errors: [UInt8] = []
                do {
                    try await withTaskCancellationHandler {
                        for try await event in session.events {
                            switch event {
                            case .stdout(let b): continuation.yield(b)
                            case .stderr(let b): if errors.count < 65536 { errors += b }
                            case .exit(let code):
                                if code == 0 || Task.isCancelled {
                                    continuation.finish()
                                } else {
                                    continuation.finish(throwing: SandboxError.commandFailed(
                                        argv: argv, status: Int32(truncatingIfNeeded: code),
                                        stderr: String(decoding: errors, as: UTF8.self)))
                                }
                                return
                            case .message: continue
                            }
                        }
                        continuation.finish()
                    } onCancel: {
                        Task {
                            try? await session.signal("TERM")
                            await session.detach()
                        }
                    }
                } catch let e as SpritesError {
                    continuation.finish(throwing: Self.sandboxError(e, argv: argv))
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in pump.cancel() }
        return stream
    }

    /// Runs `argv` in a TTY exec sized like this terminal, with this terminal in raw mode; the
    /// window size follows SIGWINCH. Ctrl-\ leaves (the remote command is then ended).
    public func interactive(_ argv: [String]) throws -> Int32 {
        guard isatty(0) == 1 && isatty(1) == 1 else { throw SandboxError.io("\(argv.first ?? "command") needs a terminal") }
        let size = RawTerminal.size()
        let command = ExecCommand(argv, tty: true, rows: size.rows, cols: size.cols, maxRunAfterDisconnect: "1s")
        let outcome: AttachLoop.Outcome = try runBlocking {
            let session = try await start(command)
            let raw = try RawTerminal(fd: 0)
            defer { raw.restore() }
            let outcome = try await AttachLoop.run(session)
            if case .detached = outcome { _ = try? await client.killSession(sprite, id: session.info.id, timeout: .seconds(1)) }
            return outcome
        }
        switch outcome {
        case .exited(let code): return Int32(truncatingIfNeeded: code)
        case .detached: return 0
        }
    }

    // MARK: - Files

    public func writeFile(path: String, data: Data, mode: Int) async throws {
        do {
            try await client.writeFile(sprite, path: path, data: [UInt8](data), mode: mode)
        } catch let e as SpritesError {
            throw Self.sandboxError(e, argv: ["write", path])
        }
    }

    public func readFile(path: String) async throws -> Data {
        do {
            return Data(try await client.readFile(sprite, path: path))
        } catch SpritesError.api(let e) where e.status == 404 {
            throw SandboxError.fileNotFound(path)
        } catch let e as SpritesError {
            throw Self.sandboxError(e, argv: ["read", path])
        }
    }

    public func fileSize(path: String) async throws -> Int64? {
        do {
            let entries = try await client.listFiles(sprite, path: path)
            let name = (path as NSString).lastPathComponent
            return (entries.count == 1 ? entries.first : entries.first { $0.name == name }).map { Int64($0.size) } ?? 0
        } catch SpritesError.api(let e) where e.status == 404 {
            return nil
        } catch let e as SpritesError {
            throw Self.sandboxError(e, argv: ["stat", path])
        }
    }

    /// Opens the sprite's control connection ahead of the first command.
    public func warmUp() {
        if client.controlMode { client.controlChannel(sprite).warm() }
    }

    // MARK: - Helpers

    /// Starts a short command on the sprite's control channel, or on its own exec socket when
    /// the channel cannot take it (refused by the server, unreachable, all its connections busy).
    func startShort(_ command: ExecCommand) async throws -> ExecSession {
        if client.controlMode, let session = try await client.controlChannel(sprite).exec(command) {
            return session
        }
        return try await start(command)
    }

    /// Starts an exec, retrying refused upgrades (the command never started).
    func start(_ command: ExecCommand) async throws -> ExecSession {
        var attempt = 0
        while true {
            do {
                return try await client.exec(sprite, command)
            } catch let e as SpritesError {
                attempt += 1
                // The account's limit is not waited out here: the task waits in the queue instead.
                guard attempt < attempts, Self.limit(e) == nil, let delay = Self.retryDelay(e, attempt: attempt) else {
                    throw Self.sandboxError(e, argv: command.argv)
                }
                try await Task.sleep(for: .seconds(delay))
            }
        }
    }

    /// How long to wait before trying a refused exec again; nil when it must not be retried.
    static func retryDelay(_ error: SpritesError, attempt: Int) -> Double? {
        let backoff = min(8, 0.2 * pow(2, Double(attempt - 1))) * Double.random(in: 0.8...1.2)
        switch error {
        case .api(let e) where e.status == 429: return min(30, e.retryAfterSeconds ?? backoff)
        case .api(let e) where e.status == 502 || e.status == 503: return backoff
        case .transport(let m) where m.contains("upgrade refused"): return backoff
        default: return nil
        }
    }

    /// A Sprites failure in the Sandbox's words (401 and 404 keep their meaning in the text).
    static func sandboxError(_ error: SpritesError, argv: [String]) -> SandboxError {
        switch error {
        case .connectionLost(let reason, _, _):
            return .connectionLost(reason)
        case .api(let e) where e.status == 401:
            return .io("the Sprites API refused the token (401 unauthorized)")
        default:
            if let (reason, after) = limit(error) { return .unavailable(reason, retryAfter: after) }
            return .io(error.description)
        }
    }

    /// The account's limit on sprites at once, or on creating them (429 with a structured error,
    /// spec §2): what to tell the user, and when to try again. Nil for any other error.
    public static func limit(_ error: SpritesError) -> (reason: String, retryAfter: Double)? {
        guard case .api(let api) = error, api.status == 429 else { return nil }
        let after = max(api.retryAfterSeconds ?? 30, 1)
        switch api.code {
        case "concurrent_sprite_limit_exceeded":
            let limit = api.limit.map { " (\($0))" } ?? ""
            return ("the account's limit on sprites at once\(limit) is reached; trying again in \(Int(after)) s", after)
        case "sprite_creation_rate_limited":
            return ("creating sprites is rate-limited; trying again in \(Int(after)) s", after)
        default:
            return nil
        }
    }
}
