import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// The exec WebSocket (§4, §5.3): new commands, attach (path and legacy form), frames, faults.
struct ExecSocket {
    enum Outcome: Sendable { case exited, disconnected, writeFailed }

    let store: SpriteStore
    let state: SimState

    func register(on router: Router<SimContext>) {
        for path in ["/v1/sprites/:name/exec", "/v1/sprites/:name/exec/:id"] {
            router.ws(RouterPath(path)) { req, ctx in
                await shouldUpgrade(req, ctx)
            } onUpgrade: { inbound, outbound, ctx in
                await serve(inbound, outbound, ctx)
            }
        }
    }

    private func shouldUpgrade(_ req: Request, _ ctx: SimContext) async -> RouterShouldUpgrade {
        let name = param(ctx, "name")
        let q = Query(req.uri.query)
        guard state.authorized(req.headers[.authorization]), !state.takeRateLimit("exec"),
              store.get(name) != nil, !store.wouldExceedLimit(name, faults: state.faults.withLock({ $0 })) else { return .dontUpgrade }
        if let id = ctx.parameters.get("id") {
            guard !state.faults.withLock({ $0 }).attachPath404, store.session(name, id) != nil else { return .dontUpgrade }
        } else if let id = q.first("id") {
            guard store.session(name, id) != nil else { return .dontUpgrade }
        } else if q.all("cmd").isEmpty && q.first("path") == nil {
            return .dontUpgrade
        }
        await state.roundTrip(ctx.channel)
        await noDelay(ctx.channel)
        await store.touch(name)
        state.record(LoggedRequest(method: "GET", path: req.uri.path, query: req.uri.query ?? "", status: 101,
                                   time: Date(), websocket: true))
        var headers = HTTPFields()
        headers[HTTPField.Name("Sprite-Version")!] = state.spriteVersion
        headers[HTTPField.Name("X-Sprite-Capabilities")!] = "signal"
        return .upgrade(headers)
    }

    private func spec(_ q: Query, sprite: String) -> CommandSpec {
        let argv = q.all("cmd")
        return Self.commandSpec(store: store, sprite: sprite, argv: argv, path: q.first("path"), env: q.all("env"),
                                dir: q.first("dir"), tty: q.bool("tty") ?? false, rows: q.int("rows"),
                                cols: q.int("cols"), stdin: q.bool("stdin"))
    }

    /// How a command runs in a sprite, from an exec query or a control op's arguments: `env`
    /// pairs replace the environment, `dir` under `/home/sprite` maps to the sprite's home.
    static func commandSpec(store: SpriteStore, sprite: String, argv given: [String], path: String?, env pairs: [String],
                            dir: String?, tty: Bool, rows: Int?, cols: Int?, stdin: Bool?) -> CommandSpec {
        var argv = given
        let path = path ?? argv.first ?? "bash"
        if argv.isEmpty { argv = [path] }
        var env: [String: String]?
        if !pairs.isEmpty {
            env = [:]
            for p in pairs {
                let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                env?[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        let home = store.homeDir(sprite).path
        var directory = home
        if let d = dir, !d.isEmpty {
            if d == "/home/sprite" || d.hasPrefix("/home/sprite/") { directory = home + d.dropFirst("/home/sprite".count) }
            else if d.hasPrefix("/") { directory = d } else { directory = home + "/" + d }
        }
        return CommandSpec(argv: argv, path: path, environment: store.environment(for: sprite, requested: env, tty: tty),
                           directory: directory, tty: tty, rows: rows ?? 24, cols: cols ?? 80, stdin: stdin ?? tty)
    }

    private func serve(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter,
                       _ ctx: WebSocketRouterContext<SimContext>) async {
        let rc = ctx.requestContext
        let name = param(rc, "name")
        let q = Query(ctx.request.uri.query)
        let faults = state.faults.withLock({ $0 })
        let session: ProcessSession
        let subscription: (id: UUID, events: AsyncStream<SessionEvent>)
        let isOwner: Bool
        if let id = rc.parameters.get("id") ?? q.first("id") {
            guard let s = store.session(name, id) else {
                try? await outbound.close(.normalClosure, reason: "session not found")
                return
            }
            session = s
            subscription = s.subscribe(replay: true)
            isOwner = false
        } else {
            let store = self.store
            do {
                session = try ProcessSession(
                    spec: spec(q, sprite: name), spriteName: name, scrollbackLimit: store.options.scrollbackLimit,
                    onOutput: { store.markActive(name) },
                    onExit: { s, code in store.sessionEnded(s, code: code) })
            } catch {
                try? await outbound.writeBinaryMessage(ByteBuffer(bytes: [2] + Array("\(error)\n".utf8)))
                try? await outbound.writeBinaryMessage(ByteBuffer(bytes: [3, 127]))
                return
            }
            store.register(session)
            subscription = session.owner
            isOwner = true
        }
        let socketId = store.addSocket(sprite: name) { rc.channel.close(promise: nil) }
        defer {
            store.removeSocket(socketId)
            session.unsubscribe(subscription.id)
        }

        if faults.closeMode != .noFrames {
            try? await outbound.writeTextMessage(session.infoMessage(isOwner: isOwner, idAsString: state.sessionIdAsString.withLock({ $0 })))
        }

        // The inbound stream allows one iterator and WSCore reads it again after this handler
        // returns, so the reader must have finished before we return.
        let exited = await withTaskGroup(of: Outcome.self) { group in
            group.addTask { await readInput(inbound, session); return .disconnected }
            group.addTask {
                await writeOutput(subscription.events, outbound, session: session, faults: faults) ? .exited : .writeFailed
            }
            let first = await group.next() ?? .disconnected
            switch first {
            case .exited:
                // The client closes as soon as it has the exit frame (the SDKs do): give it a moment
                // to, before closing from here. Closing at once (WSCore closes the TCP connection
                // right after its close frame) can reset the connection while the client has not
                // read the exit frame yet, and lose it — a sim artifact, as the real server waits ~5 s.
                let guardTask = Task {
                    try? await Task.sleep(for: .milliseconds(500))
                    if Task.isCancelled { return }
                    try? await outbound.close(.normalClosure, reason: nil)
                    try? await Task.sleep(for: .seconds(2))
                    if !Task.isCancelled { rc.channel.close(promise: nil) }
                }
                _ = await group.next()
                guardTask.cancel()
            case .disconnected:
                group.cancelAll()
                _ = await group.next()
            case .writeFailed:
                rc.channel.close(promise: nil)
                _ = await group.next()
            }
            return first == .exited
        }
        if !exited && isOwner && session.isRunning {
            applyDisconnectPolicy(session, q)
        }
    }

    /// After the creator disconnects, a process may live on for `max_run_after_disconnect`
    /// (default: TTY forever, non-TTY 10 s; `0` = forever).
    private func applyDisconnectPolicy(_ session: ProcessSession, _ q: Query) {
        Self.endAfterDisconnect(session, limit: parseDuration(q.first("max_run_after_disconnect")))
    }

    /// Ends a process whose socket is gone once `limit` seconds passed with no socket attached
    /// (nil: the default, TTY forever, non-TTY 10 s; 0 = forever).
    static func endAfterDisconnect(_ session: ProcessSession, limit given: Double?) {
        let limit = given ?? (session.tty ? 0 : 10)
        guard limit > 0 else { return }
        Task {
            try? await Task.sleep(for: .seconds(limit))
            if session.isRunning && !session.hasAttachedSockets {
                session.signal(SIGTERM)
                try? await Task.sleep(for: .seconds(2))
                session.signal(SIGKILL)
            }
        }
    }

    private func readInput(_ inbound: WebSocketInboundStream, _ session: ProcessSession) async {
        do {
            for try await message in inbound.messages(maxSize: 1 << 24) {
                Self.deliver(message, to: session)
            }
        } catch {}
    }

    /// Client input for a session: binary frames are stdin (`0x00`+data, `0x04` EOF; raw bytes
    /// on a TTY), text frames `resize` and `signal`.
    static func deliver(_ message: WebSocketMessage, to session: ProcessSession) {
        switch message {
        case .binary(let buf):
            let bytes = Array(buf.readableBytesView)
            guard !bytes.isEmpty else { return }
            if session.tty { session.writeStdin(bytes); return }
            switch bytes[0] {
            case 0: session.writeStdin(Array(bytes.dropFirst()))
            case 4: session.closeStdin()
            default: return
            }
        case .text(let text):
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return }
            switch obj["type"] as? String {
            case "resize":
                if let c = obj["cols"] as? Int, let r = obj["rows"] as? Int { session.resize(rows: r, cols: c) }
            case "signal":
                if let s = obj["signal"] as? String, let n = Signals.number(s) { session.signal(n) }
            default: return
            }
        }
    }

    /// A binary message: the stream-id byte (non-TTY) and the payload, copied once.
    static func frame(_ kind: UInt8?, _ payload: [UInt8]) -> ByteBuffer {
        var buf = ByteBufferAllocator().buffer(capacity: payload.count + 1)
        if let kind { buf.writeInteger(kind) }
        buf.writeBytes(payload)
        return buf
    }

    /// Returns true once the exit was handled (frame sent or withheld per the fault switch).
    private func writeOutput(_ events: AsyncStream<SessionEvent>, _ out: WebSocketOutboundWriter,
                             session: ProcessSession, faults: Faults) async -> Bool {
        let silent = faults.closeMode == .noFrames
        for await event in events {
            do {
                switch event {
                case .stdout(let b):
                    if silent { continue }
                    try await out.writeBinaryMessage(Self.frame(session.tty ? nil : 1, b))
                case .stderr(let b):
                    if silent { continue }
                    try await out.writeBinaryMessage(Self.frame(session.tty ? nil : 2, b))
                case .exit(let code):
                    switch faults.closeMode {
                    case .normal:
                        if session.tty {
                            try await out.writeTextMessage("{\"type\":\"exit\",\"exit_code\":\(code)}")
                        } else {
                            try await out.writeBinaryMessage(ByteBuffer(bytes: [3, UInt8(code & 0xff)]))
                        }
                        let delay = state.faults.withLock({ $0 }).closeDelay
                        if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
                    case .noExit1000, .noFrames:
                        try await out.close(.normalClosure, reason: nil)
                    case .noExit1011:
                        try await out.close(.unexpectedServerError, reason: "internal error")
                    }
                    return true
                }
            } catch {
                return false
            }
        }
        return false
    }
}
