import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization

/// The control channel (spec §4.8): one WebSocket carrying one command at a time.
///
/// - `control:{"type":"op.start","op":"exec","args":{cmd, env, dir, tty, rows, cols, stdin}}`
///   starts a command (args as sprites-py sends them: `tty`, `rows`, `cols`, `stdin` as strings;
///   booleans and numbers are accepted too). `session_info` follows as on an exec socket.
/// - Binary frames carry its I/O exactly as a non-TTY exec socket (raw bytes for a TTY op);
///   text frames `resize` and `signal` go to it.
/// - It ends with the exit frame (text `{"type":"exit"}` for a TTY op), then
///   `control:{"type":"op.complete","args":{"exitCode":N}}`; a start that cannot run is
///   `control:{"type":"op.error","args":{"error":…}}`. The socket then takes the next command.
///
/// The `latency_ms` fault delays each op as one round trip; the close-mode faults apply to each
/// op (output then a close without the exit frame, …). When the client goes away mid-command,
/// the process lives on as after an exec socket's disconnect (non-TTY 10 s, TTY forever).
/// With the `control_refused` fault the upgrade is refused with 404, as by servers without it.
struct ControlSocket {
    static let prefix = "control:"

    let store: SpriteStore
    let state: SimState

    func register(on wsRouter: Router<SimContext>, plain router: Router<SimContext>) {
        wsRouter.ws("/v1/sprites/:name/control") { req, ctx in
            await shouldUpgrade(req, ctx)
        } onUpgrade: { inbound, outbound, ctx in
            await serve(inbound, outbound, ctx)
        }
        // What a refused upgrade is answered with (the main router's middleware has already
        // answered 401 and 429): 404 for an unknown sprite or a refused channel, else 426.
        router.get("/v1/sprites/:name/control") { _, ctx in
            guard store.get(param(ctx, "name")) != nil else { return Reply.error(.notFound, "sprite not found") }
            if state.faults.withLock({ $0 }).controlRefused { return Reply.error(.notFound, "404 page not found") }
            return Reply.error(.upgradeRequired, "the control channel needs a WebSocket upgrade")
        }
    }

    private func shouldUpgrade(_ req: Request, _ ctx: SimContext) async -> RouterShouldUpgrade {
        let name = param(ctx, "name")
        guard state.authorized(req.headers[.authorization]), !state.rateLimitPending("control"),
              !state.faults.withLock({ $0 }).controlRefused, store.get(name) != nil,
              !store.wouldExceedLimit(name, faults: state.faults.withLock({ $0 })) else { return .dontUpgrade }
        await state.roundTrip(ctx.channel)
        await noDelay(ctx.channel)
        await store.touch(name)
        state.control.withLock { $0.upgrades += 1 }
        state.record(LoggedRequest(method: "GET", path: req.uri.path, query: req.uri.query ?? "", status: 101,
                                   time: Date(), websocket: true))
        var headers = HTTPFields()
        headers[HTTPField.Name("Sprite-Version")!] = state.spriteVersion
        headers[HTTPField.Name("X-Sprite-Capabilities")!] = "signal"
        return .upgrade(headers)
    }

    /// One control connection: the command in flight, if any (shared with its output pump).
    final class Connection: Sendable {
        let op = Mutex<Op?>(nil)
    }

    /// The command in flight on one connection.
    final class Op: Sendable {
        let session: ProcessSession
        let subscription: UUID
        let writer = Mutex<Task<Void, Never>?>(nil)
        init(session: ProcessSession, subscription: UUID) {
            self.session = session
            self.subscription = subscription
        }
    }

    private func serve(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter,
                       _ ctx: WebSocketRouterContext<SimContext>) async {
        let rc = ctx.requestContext
        let name = param(rc, "name")
        let current = Connection()
        state.control.withLock { $0.open += 1 }
        let socketId = store.addSocket(sprite: name) { rc.channel.close(promise: nil) }
        defer {
            store.removeSocket(socketId)
            state.control.withLock { $0.open -= 1 }
        }
        do {
            for try await message in inbound.messages(maxSize: 1 << 24) {
                if case .text(let text) = message, text.hasPrefix(Self.prefix) {
                    let body = Array(text.utf8.dropFirst(Self.prefix.utf8.count))
                    guard let o = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                          o["type"] as? String == "op.start" else { continue }   // release, keepalive, …
                    await start(o, sprite: name, current: current, outbound, channel: rc.channel)
                } else if let op = current.op.withLock({ $0 }) {
                    ExecSocket.deliver(message, to: op.session)
                }
            }
        } catch {}
        // The client went away (or the socket was dropped) during a command.
        if let op = current.op.withLock({ c -> Op? in defer { c = nil }; return c }) {
            if let writer = op.writer.withLock({ $0 }) {
                writer.cancel()
                await writer.value
            }
            op.session.unsubscribe(op.subscription)
            if op.session.isRunning { ExecSocket.endAfterDisconnect(op.session, limit: nil) }
        }
    }

    private func start(_ o: [String: Any], sprite name: String, current: Connection,
                       _ outbound: WebSocketOutboundWriter, channel: any Channel) async {
        func refuse(_ why: String) async {
            try? await outbound.writeTextMessage(Self.message("op.error", ["error": why]))
        }
        guard current.op.withLock({ $0 }) == nil else { return await refuse("an operation is already running on this connection") }
        guard (o["op"] as? String ?? "exec") == "exec" else { return await refuse("unsupported op \(o["op"] ?? "")") }
        let args = o["args"] as? [String: Any] ?? [:]
        let argv = (args["cmd"] as? [Any] ?? []).map { "\($0)" }
        guard !argv.isEmpty else { return await refuse("cmd is required") }
        guard store.get(name) != nil else { return await refuse("sprite not found") }

        let faults = state.faults.withLock({ $0 })
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        await store.touch(name)
        state.control.withLock { $0.operations += 1 }
        let env: [String] = (args["env"] as? [Any])?.map { "\($0)" }
            ?? (args["env"] as? [String: Any])?.map { "\($0.key)=\($0.value)" } ?? []
        let tty = Self.bool(args["tty"]) ?? false
        let spec = ExecSocket.commandSpec(
            store: store, sprite: name, argv: argv, path: args["path"] as? String, env: env,
            dir: args["dir"] as? String, tty: tty, rows: Self.int(args["rows"]), cols: Self.int(args["cols"]),
            stdin: Self.bool(args["stdin"]))
        let store = self.store
        let session: ProcessSession
        do {
            session = try ProcessSession(
                spec: spec, spriteName: name, scrollbackLimit: store.options.scrollbackLimit,
                onOutput: { store.markActive(name) },
                onExit: { s, code in store.sessionEnded(s, code: code) })
        } catch {
            try? await outbound.writeBinaryMessage(ByteBuffer(bytes: [2] + Array("\(error)\n".utf8)))
            try? await outbound.writeBinaryMessage(ByteBuffer(bytes: [3, 127]))
            try? await outbound.writeTextMessage(Self.message("op.complete", ["exitCode": 127]))
            return
        }
        store.register(session)
        let op = Op(session: session, subscription: session.owner.id)
        current.op.withLock { $0 = op }

        if faults.closeMode != .noFrames {
            try? await outbound.writeTextMessage(session.infoMessage(isOwner: true, idAsString: state.sessionIdAsString.withLock({ $0 })))
        }
        let events = session.owner.events
        op.writer.withLock { w in
            w = Task {
                await Self.pump(events, outbound, op: op, current: current, faults: faults, channel: channel)
            }
        }
    }

    /// Output frames, then the exit frame and `op.complete` (or the close-mode fault). The op is
    /// released before `op.complete` goes out, so the client's next `op.start` finds it idle.
    private static func pump(_ events: AsyncStream<SessionEvent>, _ out: WebSocketOutboundWriter, op: Op,
                             current: Connection, faults: Faults, channel: any Channel) async {
        let silent = faults.closeMode == .noFrames
        let tty = op.session.tty
        for await event in events {
            do {
                switch event {
                case .stdout(let b):
                    if !silent { try await out.writeBinaryMessage(ExecSocket.frame(tty ? nil : 1, b)) }
                case .stderr(let b):
                    if !silent { try await out.writeBinaryMessage(ExecSocket.frame(tty ? nil : 2, b)) }
                case .exit(let code):
                    switch faults.closeMode {
                    case .normal:
                        if tty {
                            try await out.writeTextMessage("{\"type\":\"exit\",\"exit_code\":\(code)}")
                        } else {
                            try await out.writeBinaryMessage(ByteBuffer(bytes: [3, UInt8(code & 0xff)]))
                        }
                        let released = current.op.withLock { c -> Bool in
                            guard c === op else { return false }
                            c = nil
                            return true
                        }
                        if released { op.session.unsubscribe(op.subscription) }
                        try await out.writeTextMessage(message("op.complete", ["exitCode": code]))
                    case .noExit1000, .noFrames:
                        try await out.close(.normalClosure, reason: nil)
                    case .noExit1011:
                        try await out.close(.unexpectedServerError, reason: "internal error")
                    }
                    return
                }
            } catch {
                channel.close(promise: nil)
                return
            }
        }
    }

    static func message(_ type: String, _ args: [String: Any]) -> String {
        let obj: [String: Any] = ["type": type, "args": args]
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8)
        return prefix + String(decoding: data, as: UTF8.self)
    }

    static func bool(_ v: Any?) -> Bool? {
        if let b = v as? Bool { return b }
        if let s = v as? String { return ["true", "1", "yes"].contains(s.lowercased()) }
        if let i = v as? Int { return i != 0 }
        return nil
    }

    static func int(_ v: Any?) -> Int? {
        if let i = v as? Int { return i }
        if let s = v as? String { return Int(s) }
        if let d = v as? Double { return Int(d) }
        return nil
    }
}
