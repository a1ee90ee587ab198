import Foundation
import Synchronization
import HTTPTypes
import Logging
import NIOCore
import WSClient

/// A command to run in a sprite (§4.1).
public struct ExecCommand: Sendable {
    /// argv, argv[0] first; sent as repeated `cmd` with `path=argv[0]`.
    public var argv: [String]
    /// Replaces the sprite's default environment when set (send a complete one).
    public var environment: [String: String]?
    /// Working directory (default: the sprite's home).
    public var directory: String?
    public var tty: Bool
    public var rows: Int
    public var cols: Int
    /// Whether you will send input. Without it the server gives the command no stdin.
    public var stdin: Bool
    /// How long the process may outlive a disconnect, e.g. `"10s"`, `"0"` = forever
    /// (server defaults: TTY forever, non-TTY 10 s).
    public var maxRunAfterDisconnect: String?

    public init(_ argv: [String], environment: [String: String]? = nil, directory: String? = nil,
                tty: Bool = false, rows: Int = 24, cols: Int = 80, stdin: Bool? = nil,
                maxRunAfterDisconnect: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.directory = directory
        self.tty = tty
        self.rows = rows
        self.cols = cols
        self.stdin = stdin ?? tty
        self.maxRunAfterDisconnect = maxRunAfterDisconnect
    }

    /// The query string: `cmd` repeated (argv[0] first), `path`, `env`, `dir`, `tty`, `rows`, `cols`, `stdin`.
    var queryItems: [(String, String)] {
        var q = argv.map { ("cmd", $0) }
        if let first = argv.first { q.append(("path", first)) }
        for (k, v) in (environment ?? [:]).sorted(by: { $0.key < $1.key }) { q.append(("env", "\(k)=\(v)")) }
        if let directory { q.append(("dir", directory)) }
        if tty { q += [("tty", "true"), ("rows", String(rows)), ("cols", String(cols))] }
        q.append(("stdin", stdin ? "true" : "false"))
        if let m = maxRunAfterDisconnect { q.append(("max_run_after_disconnect", m)) }
        return q
    }
}

/// The first message on every exec socket.
public struct SessionInfo: Sendable, Equatable {
    /// The session id (the PID) — a string whatever JSON type the server sent.
    public var id: String
    public var command: String
    public var tty: Bool
    public var isOwner: Bool
    public var rows: Int?
    public var cols: Int?
    init(id: String, command: String, tty: Bool) {
        self.id = id
        self.command = command
        self.tty = tty
        self.isOwner = true
    }

    init(json o: [String: Any]) {
        id = JSON.string(o["session_id"]) ?? ""
        command = o["command"] as? String ?? ""
        tty = o["tty"] as? Bool ?? false
        isOwner = o["is_owner"] as? Bool ?? false
        rows = JSON.int(o["rows"])
        cols = JSON.int(o["cols"])
    }
}

/// What an exec session's reader shares with the socket (or control op) that feeds it: its
/// `session_info`, whether it was detached, whether its exit came.
final class ExecState: Sendable {
    let info: Mutex<SessionInfo>
    let detached = Atomic<Bool>(false)
    let finished = Atomic<Bool>(false)
    init(info: SessionInfo) { self.info = Mutex(info) }
}

/// What an exec socket delivers after `session_info`.
public enum ExecEvent: Sendable, Equatable {
    /// stdout (in TTY mode: all terminal output). Attach replays the scrollback as stdout first.
    case stdout([UInt8])
    case stderr([UInt8])
    /// The command's exit status; the stream ends after it.
    case exit(Int)
    /// Any other JSON text message (`port_opened`, …), raw.
    case message(String)
}

/// A finished command.
public struct ExecResult: Sendable, Equatable {
    public var exitCode: Int
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// Throws `.exitStatus` unless the exit code is 0.
    @discardableResult public func check() throws -> ExecResult {
        guard exitCode == 0 else { throw SpritesError.exitStatus(code: exitCode, stderr: stderrText) }
        return self
    }
}

/// A live exec socket: a new command or an attachment to an existing session.
///
/// Read `events` (one reader only). The stream ends after `.exit`; if the socket closes without an
/// exit frame it throws `SpritesError.connectionLost` — never a silent success. The client closes
/// the socket as soon as the exit frame arrives and sends ping frames every 15 s.
public final class ExecSession: Sendable {
    /// `session_info`. On the control channel the command starts without waiting for it, so
    /// `id` is empty until (and unless) the server sends one.
    public var info: SessionInfo { state.info.withLock { $0 } }
    public let events: AsyncThrowingStream<ExecEvent, any Error>
    /// Whether the command runs on the sprite's control channel rather than its own socket.
    public let viaControl: Bool
    private let state: ExecState
    private let outbound: WebSocketOutboundWriter

    /// A command on its own socket, or (`viaControl`) on a control connection, whose frames go out
    /// on the shared socket and whose `detach` closes it.
    init(state: ExecState, events: AsyncThrowingStream<ExecEvent, any Error>,
         outbound: WebSocketOutboundWriter, viaControl: Bool) {
        self.state = state
        self.events = events
        self.outbound = outbound
        self.viaControl = viaControl
    }

    /// Sends input: a `0x00`-prefixed frame in non-TTY mode, raw bytes in TTY mode.
    public func send(_ bytes: [UInt8]) async throws {
        let frame = info.tty ? bytes : [0] + bytes
        do { try await outbound.writeBinaryMessage(ByteBuffer(bytes: frame)) } catch {
            throw SpritesError.transport("cannot send input: \(error)")
        }
    }

    /// Ends input (`0x04` frame). In TTY mode there is no EOF frame; send Ctrl-D (`0x04`) instead.
    public func closeStdin() async throws {
        if info.tty { return }
        do { try await outbound.writeBinaryMessage(ByteBuffer(bytes: [4])) } catch {
            throw SpritesError.transport("cannot close input: \(error)")
        }
    }

    /// Resizes the terminal (TTY only).
    public func resize(rows: Int, cols: Int) async throws {
        guard info.tty else { return }
        try await text("{\"type\":\"resize\",\"cols\":\(cols),\"rows\":\(rows)}")
    }

    /// Sends `{"type":"signal"}` over the socket (`TERM`, `INT`, `KILL`, …). Use it only when the
    /// server advertises the `signal` capability; otherwise `SpritesClient.killSession`.
    public func signal(_ name: String) async throws {
        let bare = name.uppercased().hasPrefix("SIG") ? String(name.uppercased().dropFirst(3)) : name.uppercased()
        try await text("{\"type\":\"signal\",\"signal\":\"\(bare)\"}")
    }

    /// Closes the socket without ending the command; it lives on per `max_run_after_disconnect`
    /// and can be re-attached with `SpritesClient.attach`. `events` then ends without error.
    /// On the control channel this closes that connection (the channel opens another).
    public func detach() async {
        state.detached.store(true, ordering: .relaxed)
        try? await outbound.close(.normalClosure, reason: "detach")
    }

    /// Reads every event into an `ExecResult`. A lost socket throws `.connectionLost` with the
    /// output received so far.
    public func collect() async throws -> ExecResult {
        var out: [UInt8] = [], err: [UInt8] = []
        do {
            for try await event in events {
                switch event {
                case .stdout(let b): out += b
                case .stderr(let b): err += b
                case .exit(let code): return ExecResult(exitCode: code, stdout: out, stderr: err)
                case .message: continue
                }
            }
            throw SpritesError.connectionLost(reason: "stream ended without an exit status", stdout: out, stderr: err)
        } catch SpritesError.connectionLost(let reason, _, _) {
            throw SpritesError.connectionLost(reason: reason, stdout: out, stderr: err)
        }
    }

    private func text(_ s: String) async throws {
        do { try await outbound.writeTextMessage(s) } catch {
            throw SpritesError.transport("cannot send control message: \(error)")
        }
    }
}

/// How a command reaches the sprite.
public enum ExecRoute: Sendable {
    /// Its own exec socket (spec §4.1).
    case socket
    /// The sprite's control channel (spec §4.8) when the client's `controlMode` is on and the
    /// channel can take it; otherwise its own exec socket.
    case control
}

extension SpritesClient {
    /// Starts a command. On its own socket it returns once `session_info` arrived; on the
    /// control channel once the command was sent.
    public func exec(_ sprite: String, _ command: ExecCommand, via route: ExecRoute) async throws -> ExecSession {
        if route == .control, controlMode, let session = try await controlChannel(sprite).exec(command) {
            return session
        }
        return try await exec(sprite, command)
    }

    /// Starts a command on its own socket and returns once `session_info` arrived.
    public func exec(_ sprite: String, _ command: ExecCommand) async throws -> ExecSession {
        let url = wsURL(spriteURL(sprite, "/exec?\(Self.query(command.queryItems))"))
        do {
            return try await connect(url)
        } catch ConnectFailure.upgradeRefused {
            throw await upgradeError(probe: spriteURL(sprite, "/exec"))
        }
    }

    /// Attaches to a running session: `session_info`, then the scrollback as stdout, then live
    /// output. Tries the path form `…/exec/{id}` and falls back to the legacy `…/exec?id=` on 404.
    public func attach(_ sprite: String, sessionId: String, stdin: Bool = false) async throws -> ExecSession {
        let q = Self.query([("stdin", stdin ? "true" : "false")])
        let pathForm = wsURL(spriteURL(sprite, "/exec/\(Self.segment(sessionId))?\(q)"))
        do {
            return try await connect(pathForm)
        } catch ConnectFailure.upgradeRefused {
            let err = await upgradeError(probe: spriteURL(sprite, "/exec/\(Self.segment(sessionId))"))
            guard err.status == 404 else { throw err }
        }
        let legacy = wsURL(spriteURL(sprite, "/exec?\(Self.query([("id", sessionId), ("stdin", stdin ? "true" : "false")]))"))
        do {
            return try await connect(legacy)
        } catch ConnectFailure.upgradeRefused {
            let err = await upgradeError(probe: spriteURL(sprite, "/exec/\(Self.segment(sessionId))"))
            throw err.status == nil ? SpritesError.api(APIError(status: 404, body: Array("session not found".utf8), retryAfterHeader: nil)) : err
        }
    }

    /// Runs a command to completion. `stdin`, when given, is sent and then closed.
    public func run(_ sprite: String, _ argv: [String], stdin: [UInt8]? = nil,
                    environment: [String: String]? = nil, directory: String? = nil,
                    via route: ExecRoute = .socket) async throws -> ExecResult {
        let cmd = ExecCommand(argv, environment: environment, directory: directory, stdin: stdin != nil)
        let session = try await exec(sprite, cmd, via: route)
        if let stdin {
            var offset = 0
            while offset < stdin.count {
                let end = min(stdin.count, offset + 65536)
                try await session.send(Array(stdin[offset..<end]))
                offset = end
            }
            try await session.closeStdin()
        }
        return try await session.collect()
    }

    // MARK: - plumbing

    enum ConnectFailure: Error { case upgradeRefused }

    func wsURL(_ http: String) -> String { endpoint.wsURL(http) }

    /// WSClient does not expose a refused upgrade's status, so ask the same path over plain HTTP.
    func upgradeError(probe: String) async -> SpritesError { await endpoint.refusal(probe: probe) }

    private func connect(_ url: String) async throws -> ExecSession {
        let (events, eventsCont) = AsyncThrowingStream<ExecEvent, any Error>.makeStream()
        let (setup, setupCont) = AsyncStream<Result<(SessionInfo, WebSocketOutboundWriter), any Error>>.makeStream()
        // Exit seen (or stream ended), detached, and the session's info once it comes.
        let shared = ExecState(info: SessionInfo(id: "", command: "", tty: false))

        let client = try endpoint.webSocketClient(url) { inbound, outbound, _ in
            var tty = false
            var started = false
            for try await message in inbound.messages(maxSize: 1 << 26) {
                switch message {
                case .text(let text):
                    guard let o = JSON.object(Array(text.utf8)) else { continue }
                    switch o["type"] as? String {
                    case "session_info" where !started:
                        let info = SessionInfo(json: o)
                        tty = info.tty
                        started = true
                        setupCont.yield(.success((info, outbound)))
                        setupCont.finish()
                    case "exit":
                        shared.finished.store(true, ordering: .relaxed)
                        eventsCont.yield(.exit(JSON.int(o["exit_code"]) ?? 0))
                        eventsCont.finish()
                        return
                    default:
                        eventsCont.yield(.message(text))
                    }
                case .binary(let buf):
                    // One memcpy per frame (no per-byte iteration, no second copy for the payload).
                    guard let kind = buf.getInteger(at: buf.readerIndex, as: UInt8.self) else { continue }
                    if tty { eventsCont.yield(.stdout(buf.withUnsafeReadableBytes { Array($0) })); continue }
                    let payload = buf.withUnsafeReadableBytes { Array(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
                    switch kind {
                    case 1: eventsCont.yield(.stdout(payload))
                    case 2: eventsCont.yield(.stderr(payload))
                    case 3:
                        let code = payload.count >= 4
                            ? Int(payload[0]) << 24 | Int(payload[1]) << 16 | Int(payload[2]) << 8 | Int(payload[3])
                            : Int(payload.first ?? 0)
                        shared.finished.store(true, ordering: .relaxed)
                        eventsCont.yield(.exit(code))
                        eventsCont.finish()
                        return
                    default: continue
                    }
                }
            }
        }
        Task {
            var failure: (any Error)?
            var reason = "closed"
            do {
                let close = try await client.run()
                if let close { reason = "closed with code \(close.closeCode)" + (close.reason.map { " (\($0))" } ?? "") }
                else { reason = "connection closed without a close frame" }
            } catch let e as WebSocketClientError where e == .webSocketUpgradeFailed {
                failure = ConnectFailure.upgradeRefused
            } catch {
                reason = "\(error)"
                failure = endpoint.webSocketFailure(error, url: url)
            }
            setupCont.yield(.failure(failure ?? SpritesError.connectionLost(reason: reason, stdout: [], stderr: [])))
            setupCont.finish()
            if !shared.finished.load(ordering: .relaxed) {
                if shared.detached.load(ordering: .relaxed) { eventsCont.finish() }
                else { eventsCont.finish(throwing: SpritesError.connectionLost(reason: reason, stdout: [], stderr: [])) }
            }
        }
        for await result in setup {
            let (info, outbound) = try result.get()
            shared.info.withLock { $0 = info }
            return ExecSession(state: shared, events: events, outbound: outbound, viaControl: false)
        }
        throw SpritesError.connectionLost(reason: "no session_info", stdout: [], stderr: [])
    }
}
