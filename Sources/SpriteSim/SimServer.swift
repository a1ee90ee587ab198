import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// The request context: Hummingbird's basics plus the channel, so a fault can abort it.
public struct SimContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<SimContext>
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// The Sprites-compatible server. Use `start()` to run it in-process (tests) or `run()` to
/// serve until the process ends.
///
///     let sim = try SpriteSimServer(options: SimOptions(root: dir, token: "t"))
///     let url = try await sim.start()   // "http://127.0.0.1:PORT"
public final class SpriteSimServer: Sendable {
    public let options: SimOptions
    let store: SpriteStore
    let state: SimState
    private let boundPort = Locked<Int?>(nil)
    private let group = Locked<ServiceGroup?>(nil)

    public init(options: SimOptions) throws {
        var opts = options
        opts.root = URL(fileURLWithPath: options.root).standardizedFileURL.path
        self.options = opts
        self.store = try SpriteStore(options: opts)
        self.state = SimState(options: opts)
    }

    /// Base URL once started.
    public var url: String? { boundPort.current.map { "http://\(options.host):\($0)" } }

    /// Starts serving in the background and returns the base URL.
    public func start() async throws -> String {
        let (stream, cont) = AsyncStream<Int>.makeStream()
        let app = makeApplication { port in cont.yield(port); cont.finish() }
        let lifecycle = LifecycleService(store: store, state: state)
        let serviceGroup = ServiceGroup(configuration: .init(services: [app, lifecycle], logger: Logger(label: "sprite-sim")))
        group.withLock { $0 = serviceGroup }
        Task { try? await serviceGroup.run(); cont.finish() }
        for await port in stream {
            boundPort.withLock { $0 = port }
            return "http://\(options.host):\(port)"
        }
        throw SpawnError(description: "sprite-sim: server did not start on \(options.host):\(options.port)")
    }

    /// Serves until the process is signalled; calls `onListening` with the base URL first.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let host = options.host
        let app = makeApplication { port in onListening("http://\(host):\(port)") }
        let lifecycle = LifecycleService(store: store, state: state)
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [app, lifecycle], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sprite-sim")))
        try await serviceGroup.run()
    }

    /// Stops a server started with `start()`.
    public func stop() async {
        store.dropSockets()
        await group.current?.triggerGracefulShutdown()
    }

    /// The request log (newest last).
    public var requests: [LoggedRequest] { state.requests }

    private func makeApplication(onPort: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router(context: SimContext.self)
        router.add(middleware: SimMiddleware(state: state))
        RESTRoutes(store: store, state: state).register(on: router)
        AdminRoutes(store: store, state: state).register(on: router)
        let wsRouter = Router(context: SimContext.self)
        ExecSocket(store: store, state: state).register(on: wsRouter)
        var logger = Logger(label: "sprite-sim")
        logger.logLevel = .error
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: wsRouter, configuration: .init(ws: .init(maxFrameSize: 1 << 24))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in onPort(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// Drives the idle timer.
struct LifecycleService: Service {
    let store: SpriteStore
    let state: SimState

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (idle, cold) = store.timerValues
            let tick = max(0.02, min(1.0, min(idle, cold) / 4))
            try? await Task.sleep(for: .seconds(tick))
            store.lifecycleTick(dropOnPause: state.faults.current.dropOnPause)
        }
    }
}

/// Sprite-Version on every response, latency, bearer auth on `/v1`, 429 fault, request log.
struct SimMiddleware: RouterMiddleware {
    typealias Context = SimContext
    let state: SimState

    func handle(_ request: Request, context: SimContext, next: (Request, SimContext) async throws -> Response) async throws -> Response {
        let faults = state.faults.current
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        let path = request.uri.path
        var response: Response
        if path.hasPrefix("/v1") {
            if !state.authorized(request.headers[.authorization]) {
                response = Reply.error(.unauthorized, "unauthorized: missing or invalid bearer token")
            } else {
                var endpoint = endpointName(method: request.method.rawValue, path: path)
                if endpoint == "exec", request.method == .get, request.headers[.upgrade] == nil { endpoint = "sessions" }
                if state.takeRateLimit(endpoint) {
                    response = Self.rateLimited(state.faults.current.retryAfter)
                } else {
                    do { response = try await next(request, context) } catch let e as HTTPError {
                        response = Reply.error(e.status, e.body ?? e.status.reasonPhrase)
                    }
                }
            }
        } else {
            response = try await next(request, context)
        }
        response.headers[HTTPField.Name("Sprite-Version")!] = state.spriteVersion
        state.record(LoggedRequest(method: request.method.rawValue, path: path, query: request.uri.query ?? "",
                                   status: response.status.code, time: Date(), websocket: false))
        return response
    }

    static func rateLimited(_ retryAfter: Int) -> Response {
        var h = HTTPFields()
        h[HTTPField.Name("Retry-After")!] = String(retryAfter)
        h[HTTPField.Name("X-RateLimit-Limit")!] = "10"
        h[HTTPField.Name("X-RateLimit-Remaining")!] = "0"
        h[HTTPField.Name("X-RateLimit-Reset")!] = String(Int(Date().timeIntervalSince1970) + retryAfter)
        return Reply.json(.tooManyRequests, [
            "error": "sprite_creation_rate_limited",
            "message": "rate limit exceeded, retry after \(retryAfter)s",
            "limit": 10, "window_seconds": 60, "retry_after_seconds": retryAfter, "current_count": 11,
            "upgrade_available": false,
        ], headers: h)
    }
}

extension SimState {
    var spriteVersion: String { versionBox.current }
}
