import Foundation
import Synchronization
import NIOCore
import WSClient

/// A sprite's control channel (spec §4.8): a persistent WebSocket at
/// `/v1/sprites/{name}/control` that carries one command at a time, so a short command costs
/// no new connection (no TCP or TLS handshake, no upgrade) — one round trip.
///
/// - A command starts with the text frame `control:{"type":"op.start","op":"exec","args":{…}}`;
///   its I/O uses the frames of a non-TTY exec socket (raw bytes for a TTY command), `resize`
///   and `signal` are plain text frames, and it is finished only at
///   `control:{"type":"op.complete","args":{"exitCode":N}}` (`op.error` fails it). A connection
///   that closes before that is `SpritesError.connectionLost`, never a success.
/// - The channel keeps up to `maxConnections` connections, each carrying one command at a time,
///   reused once their command completed. A connection that drops is forgotten; the next command
///   opens a new one ("reconnects"). One left idle for `idleTimeout` is closed, so an idle
///   client holds no connection to the sprite for long (it may count as activity).
/// - When the server refuses the upgrade with 404 or 400 (a server without `/control`, spec §11
///   item 9) the channel is left alone for `retryRefusedAfter` and `exec` returns nil; so does
///   any other failure to connect, and a command beyond `maxConnections`: the caller then uses
///   an exec socket. Attaching to sessions never uses the channel.
///
/// Get it from `SpritesClient.controlChannel(_:)`, or let `SpritesClient.exec(_:_:via:)` and
/// `SpritesClient.run(_:_:via:)` with `.control` fall back for you.
public final class ControlChannel: Sendable {
    public let sprite: String
    /// Most connections open at once (one command each).
    public let maxConnections: Int
    /// How long a refused channel is not tried again.
    public let retryRefusedAfter: Duration
    /// How long a connection may stay idle before it is closed.
    public let idleTimeout: Duration

    /// What the channel did so far.
    public struct Stats: Sendable, Equatable {
        /// WebSocket upgrades made (successful connections).
        public var connectionsOpened = 0
        /// Commands started on the channel.
        public var commands = 0
        /// Commands handed back to exec sockets (refused, unreachable or all connections busy).
        public var fallbacks = 0
        /// Whether the server refused the channel (404/400) within `retryRefusedAfter`.
        public var refused = false
        /// Connections open now, busy or idle.
        public var open = 0
    }

    let endpoint: Endpoint
    private let pool = Mutex(Pool())

    struct Pool {
        var idle: [ControlConnection] = []
        var busy: [ObjectIdentifier: ControlConnection] = [:]
        var dialing = 0
        /// Bumped each time a connection goes idle; its idle timer closes it only if unchanged.
        var idleStamps: [ObjectIdentifier: UInt64] = [:]
        var nextStamp: UInt64 = 0
        var refusedUntil: ContinuousClock.Instant?
        var stats = Stats()
        var open: Int { idle.count + busy.count + dialing }
    }

    init(sprite: String, endpoint: Endpoint, maxConnections: Int = 4, retryRefusedAfter: Duration = .seconds(600),
         idleTimeout: Duration = .seconds(20)) {
        self.sprite = sprite
        self.endpoint = endpoint
        self.maxConnections = maxConnections
        self.retryRefusedAfter = retryRefusedAfter
        self.idleTimeout = idleTimeout
    }

    deinit {
        let conns = pool.withLock { p in p.idle + Array(p.busy.values) }
        for c in conns { c.close() }
    }

    public var stats: Stats {
        pool.withLock { p in
            var s = p.stats
            s.open = p.idle.count + p.busy.count
            if let until = p.refusedUntil { s.refused = ContinuousClock.now < until } else { s.refused = false }
            return s
        }
    }

    /// A connection being opened ahead of the first command (``warm()``).
    private let warming = Mutex<Task<Void, Never>?>(nil)

    /// Opens a connection now, without waiting for it, when none is open or opening: the first
    /// command then finds it ready (its handshakes overlap the caller's own work).
    public func warm() {
        let needed = pool.withLock { $0.idle.isEmpty && $0.busy.isEmpty && $0.dialing == 0 }
        guard needed else { return }
        warming.withLock { current in
            guard current == nil else { return }
            current = Task { [weak self] in
                guard let self, let (conn, _) = await self.acquire() else { return }
                self.release(conn)
            }
        }
    }

    /// Starts `command` on a connection of the channel and returns once `op.start` was sent;
    /// nil when the channel cannot take it (see the type's notes) and an exec socket should.
    public func exec(_ command: ExecCommand) async throws -> ExecSession? {
        if let opening = warming.withLock({ $0 }) { await opening.value }
        while true {
            try Task.checkCancellation()
            guard let (conn, reused) = await acquire() else {
                pool.withLock { $0.stats.fallbacks += 1 }
                return nil
            }
            do {
                let session = try await conn.start(command)
                pool.withLock { $0.stats.commands += 1 }
                return session
            } catch {
                // The start never left: a reused connection may have closed meanwhile — try
                // another; a fresh one that cannot send is the exec socket's job.
                conn.close()
                forget(conn)
                if !reused {
                    pool.withLock { $0.stats.fallbacks += 1 }
                    return nil
                }
            }
        }
    }

    /// Closes every connection (the next command opens a new one).
    public func close() {
        let conns = pool.withLock { p -> [ControlConnection] in
            defer { p.idle.removeAll(); p.busy.removeAll() }
            return p.idle + Array(p.busy.values)
        }
        for c in conns { c.close() }
    }

    // MARK: - pool

    private enum Pick { case use(ControlConnection), dial, none }

    /// An idle connection (reused), or a new one; nil when refused, at the cap or unreachable.
    private func acquire() async -> (ControlConnection, Bool)? {
        let pick: Pick = pool.withLock { p in
            if let until = p.refusedUntil {
                if ContinuousClock.now < until { return .none }
                p.refusedUntil = nil
            }
            while let c = p.idle.popLast() {
                p.idleStamps[ObjectIdentifier(c)] = nil
                if c.isClosed { continue }
                p.busy[ObjectIdentifier(c)] = c
                return .use(c)
            }
            guard p.open < maxConnections else { return .none }
            p.dialing += 1
            return .dial
        }
        switch pick {
        case .use(let c): return (c, true)
        case .none: return nil
        case .dial: break
        }
        do {
            let conn = try await ControlConnection.dial(
                endpoint: endpoint, sprite: sprite,
                onIdle: { [weak self] c in self?.release(c) },
                onClose: { [weak self] c in self?.forget(c) })
            pool.withLock { p in
                p.dialing -= 1
                p.stats.connectionsOpened += 1
                p.busy[ObjectIdentifier(conn)] = conn
            }
            return (conn, false)
        } catch {
            let refused: Bool
            if case ControlConnection.DialFailure.refused(let status) = error { refused = status == 404 || status == 400 } else { refused = false }
            pool.withLock { p in
                p.dialing -= 1
                if refused { p.refusedUntil = ContinuousClock.now + retryRefusedAfter }
            }
            return nil
        }
    }

    /// A connection whose command completed takes the next one — or is closed after
    /// `idleTimeout` without one.
    private func release(_ c: ControlConnection) {
        let id = ObjectIdentifier(c)
        let stamp: UInt64? = pool.withLock { p in
            guard p.busy.removeValue(forKey: id) != nil, !c.isClosed else { return nil }
            p.idle.append(c)
            p.nextStamp += 1
            p.idleStamps[id] = p.nextStamp
            return p.nextStamp
        }
        guard let stamp else { return }
        let timeout = idleTimeout
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard let self else { return }
            let expired = self.pool.withLock { p -> Bool in
                guard p.idleStamps[id] == stamp, let i = p.idle.firstIndex(where: { $0 === c }) else { return false }
                p.idle.remove(at: i)
                p.idleStamps[id] = nil
                return true
            }
            if expired { c.close() }
        }
    }

    private func forget(_ c: ControlConnection) {
        pool.withLock { p in
            p.busy.removeValue(forKey: ObjectIdentifier(c))
            p.idle.removeAll { $0 === c }
            p.idleStamps[ObjectIdentifier(c)] = nil
        }
    }
}

/// One control WebSocket: the command in flight, if any, gets the frames.
final class ControlConnection: Sendable {
    static let prefix = "control:"

    enum DialFailure: Error {
        /// The upgrade was refused; the status a plain request to the same path got (nil: none,
        /// or 404 for a sprite that does not exist).
        case refused(Int?)
        case failed(SpritesError)
    }

    /// The command in flight.
    final class Op: Sendable {
        let events: AsyncThrowingStream<ExecEvent, any Error>.Continuation
        let state: ExecState
        let tty: Bool
        /// The exit code of the exit frame (the op finishes at `op.complete`).
        let exitFrame = Mutex<Int?>(nil)
        init(events: AsyncThrowingStream<ExecEvent, any Error>.Continuation, info: SessionInfo) {
            self.events = events
            self.state = ExecState(info: info)
            self.tty = info.tty
        }
    }

    private struct State {
        var outbound: WebSocketOutboundWriter?
        var op: Op?
        var closed = false
    }
    private let state = Mutex(State())
    private let onIdle: @Sendable (ControlConnection) -> Void
    private let onClose: @Sendable (ControlConnection) -> Void

    private init(onIdle: @escaping @Sendable (ControlConnection) -> Void,
                 onClose: @escaping @Sendable (ControlConnection) -> Void) {
        self.onIdle = onIdle
        self.onClose = onClose
    }

    var isClosed: Bool { state.withLock({ $0.closed }) }

    /// Opens a control connection; returns once the upgrade succeeded.
    static func dial(endpoint: Endpoint, sprite: String,
                     onIdle: @escaping @Sendable (ControlConnection) -> Void,
                     onClose: @escaping @Sendable (ControlConnection) -> Void) async throws -> ControlConnection {
        let conn = ControlConnection(onIdle: onIdle, onClose: onClose)
        let path = endpoint.spriteURL(sprite, "/control")
        let url = endpoint.wsURL(path)
        let (ready, readyCont) = AsyncStream<Result<Void, any Error>>.makeStream()
        let client: WebSocketClient
        do {
            client = try endpoint.webSocketClient(url, maxFrameSize: 10 << 20) { inbound, outbound, _ in
                conn.state.withLock { $0.outbound = outbound }
                readyCont.yield(.success(()))
                readyCont.finish()
                for try await message in inbound.messages(maxSize: 1 << 26) { conn.receive(message) }
            }
        } catch {
            throw DialFailure.failed(endpoint.webSocketFailure(error, url: url))
        }
        Task {
            var reason = "closed"
            do {
                if let close = try await client.run() {
                    reason = "closed with code \(close.closeCode)" + (close.reason.map { " (\($0))" } ?? "")
                } else {
                    reason = "connection closed without a close frame"
                }
                readyCont.yield(.failure(DialFailure.failed(.transport("the control channel closed at once"))))
            } catch let e as WebSocketClientError where e == .webSocketUpgradeFailed {
                var status = await endpoint.refusal(probe: path).status
                // A 404 for a sprite that does not exist (yet) says nothing about /control.
                if status == 404, await endpoint.refusal(probe: endpoint.spriteURL(sprite)).status == 404 { status = nil }
                readyCont.yield(.failure(DialFailure.refused(status)))
            } catch {
                reason = "\(error)"
                readyCont.yield(.failure(DialFailure.failed(endpoint.webSocketFailure(error, url: url))))
            }
            readyCont.finish()
            conn.closed(reason: reason)
        }
        for await result in ready {
            try result.get()
            return conn
        }
        throw DialFailure.failed(.transport("the control channel did not open"))
    }

    /// Sends `op.start` for `command`; its frames go to the returned session from then on.
    func start(_ command: ExecCommand) async throws -> ExecSession {
        let info = SessionInfo(id: "", command: command.argv.joined(separator: " "), tty: command.tty)
        let (events, cont) = AsyncThrowingStream<ExecEvent, any Error>.makeStream()
        let op = Op(events: cont, info: info)
        let outbound: WebSocketOutboundWriter? = state.withLock { s in
            guard !s.closed, s.op == nil, let out = s.outbound else { return nil }
            s.op = op
            return out
        }
        guard let outbound else { throw SpritesError.transport("the control connection is closed") }
        do {
            try await outbound.writeTextMessage(Self.startMessage(command))
        } catch {
            state.withLock { s in if s.op === op { s.op = nil } }
            throw SpritesError.transport("cannot start the command on the control channel: \(error)")
        }
        return ExecSession(state: op.state, events: events, outbound: outbound, viaControl: true)
    }

    /// `control:{"type":"op.start","op":"exec","args":{…}}` as sprites-py sends it: `cmd` (argv),
    /// `env` (`K=V` list), `dir`, `tty`/`rows`/`cols` and `stdin` as strings.
    static func startMessage(_ c: ExecCommand) -> String {
        var args: [String: Any] = ["cmd": c.argv, "stdin": c.stdin ? "true" : "false"]
        if let env = c.environment { args["env"] = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        if let dir = c.directory { args["dir"] = dir }
        if c.tty { args["tty"] = "true"; args["rows"] = String(c.rows); args["cols"] = String(c.cols) }
        let body = JSON.encode(["type": "op.start", "op": "exec", "args": args])
        return prefix + String(decoding: body, as: UTF8.self)
    }

    func close() {
        guard let out = state.withLock({ $0.outbound }) else { return }
        Task { try? await out.close(.normalClosure, reason: nil) }
    }

    // MARK: - inbound

    private func receive(_ message: WebSocketMessage) {
        switch message {
        case .text(let text):
            if text.hasPrefix(Self.prefix) {
                control(Array(text.utf8.dropFirst(Self.prefix.utf8.count)))
                return
            }
            guard let op = state.withLock({ $0.op }) else { return }
            guard let o = JSON.object(Array(text.utf8)) else { return }
            switch o["type"] as? String {
            case "session_info": op.state.info.withLock { $0 = SessionInfo(json: o) }
            case "exit": op.exitFrame.withLock { $0 = JSON.int(o["exit_code"]) ?? 0 }
            default: op.events.yield(.message(text))
            }
        case .binary(let buf):
            guard let op = state.withLock({ $0.op }),
                  let kind = buf.getInteger(at: buf.readerIndex, as: UInt8.self) else { return }
            if op.tty { op.events.yield(.stdout(buf.withUnsafeReadableBytes { Array($0) })); return }
            let payload = buf.withUnsafeReadableBytes { Array(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
            switch kind {
            case 1: op.events.yield(.stdout(payload))
            case 2: op.events.yield(.stderr(payload))
            case 3:
                let code = payload.count >= 4
                    ? Int(payload[0]) << 24 | Int(payload[1]) << 16 | Int(payload[2]) << 8 | Int(payload[3])
                    : Int(payload.first ?? 0)
                op.exitFrame.withLock { $0 = code }
            default: return
            }
        }
    }

    /// `op.complete` finishes the command (its exit code, else the exit frame's); `op.error`
    /// fails it unless its exit frame came. Either way the connection takes the next command.
    private func control(_ body: [UInt8]) {
        guard let o = JSON.object(body), let type = o["type"] as? String,
              type == "op.complete" || type == "op.error" else { return }   // keepalive, dial, …
        guard let op = state.withLock({ s -> Op? in defer { s.op = nil }; return s.op }) else { return }
        // Back to the pool first: whoever reads the exit may start the next command at once.
        onIdle(self)
        let args = o["args"] as? [String: Any] ?? [:]
        let frame = op.exitFrame.withLock { $0 }
        if type == "op.complete" {
            op.events.yield(.exit(JSON.int(args["exitCode"]) ?? frame ?? 0))
            op.events.finish()
        } else if let frame {
            op.events.yield(.exit(frame))
            op.events.finish()
        } else {
            let why = args["error"] as? String ?? "unknown error"
            op.events.finish(throwing: SpritesError.transport("the control channel failed the command: \(why)"))
        }
    }

    /// The socket is gone: a command in flight lost it (an error, unless it was detached).
    private func closed(reason: String) {
        let op = state.withLock { s -> Op? in
            s.closed = true
            defer { s.op = nil }
            return s.op
        }
        if let op {
            if op.state.detached.load(ordering: .relaxed) { op.events.finish() }
            else { op.events.finish(throwing: SpritesError.connectionLost(reason: reason, stdout: [], stderr: [])) }
        }
        onClose(self)
    }
}
