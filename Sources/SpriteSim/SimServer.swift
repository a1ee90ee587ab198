import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

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
    private let boundPort = Mutex<Int?>(nil)
    private let group = Mutex<ServiceGroup?>(nil)

    public init(options: SimOptions) throws {
        var opts = options
        opts.root = URL(fileURLWithPath: options.root).standardizedFileURL.path
        self.options = opts
        self.store = try SpriteStore(options: opts)
        self.state = SimState(options: opts)
    }

    /// Base URL once started.
    public var url: String? { boundPort.withLock({ $0 }).map(baseURL(port:)) }

    /// `http://HOST:PORT`, or with TLS `https://HOST:PORT` — `localhost` for 127.0.0.1, as TLS
    /// clients send the host as the server name, which may not be an IP address.
    func baseURL(port: Int) -> String {
        guard options.tlsCertificatePath != nil else { return "http://\(options.host):\(port)" }
        return "https://\(options.host == "127.0.0.1" ? "localhost" : options.host):\(port)"
    }

    /// Starts serving in the background and returns the base URL.
    public func start() async throws -> String {
        let (stream, cont) = AsyncStream<Int>.makeStream()
        let app = try makeApplication { port in cont.yield(port); cont.finish() }
        let lifecycle = LifecycleService(store: store, state: state)
        let serviceGroup = ServiceGroup(configuration: .init(services: [app, lifecycle], logger: Logger(label: "sprite-sim")))
        group.withLock { $0 = serviceGroup }
        Task { try? await serviceGroup.run(); cont.finish() }
        for await port in stream {
            boundPort.withLock { $0 = port }
            return baseURL(port: port)
        }
        throw SpawnError(description: "sprite-sim: server did not start on \(options.host):\(options.port)")
    }

    /// Serves until the process is signalled; calls `onListening` with the base URL first.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let app = try makeApplication { [self] port in onListening(baseURL(port: port)) }
        let lifecycle = LifecycleService(store: store, state: state)
        let serviceGroup = ServiceGroup(configuration: .init(
            services: [app, lifecycle], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "sprite-sim")))
        try await serviceGroup.run()
    }

    /// Stops a server started with `start()`.
    public func stop() async {
        store.dropSockets()
        await group.withLock({ $0 })?.triggerGracefulShutdown()
    }

    /// The request log (newest last).
    public var requests: [LoggedRequest] { state.requests }

    private func makeApplication(onPort: @escaping @Sendable (Int) -> Void) throws -> some ApplicationProtocol {
        let router = Router(context: SimContext.self)
        router.add(middleware: SimMiddleware(state: state, store: store))
        RESTRoutes(store: store, state: state).register(on: router)
        AdminRoutes(store: store, state: state).register(on: router)
        let wsRouter = Router(context: SimContext.self)
        ExecSocket(store: store, state: state).register(on: wsRouter)
        ControlSocket(store: store, state: state).register(on: wsRouter, plain: router)
        var logger = Logger(label: "sprite-sim")
        logger.logLevel = .error
        let plain = HTTPServerBuilder.http1WebSocketUpgrade(
            webSocketRouter: wsRouter, configuration: .init(ws: .init(maxFrameSize: 1 << 24)))
        let server = try tlsConfiguration().map { try HTTPServerBuilder.tls(plain, tlsConfiguration: $0) } ?? plain
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in onPort(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

extension SpriteSimServer {
    /// The server's TLS configuration from the PEM files, or nil for plain HTTP.
    func tlsConfiguration() throws -> TLSConfiguration? {
        switch (options.tlsCertificatePath, options.tlsKeyPath) {
        case (nil, nil):
            return nil
        case (let cert?, let key?):
            let chain: [NIOSSLCertificate]
            let privateKey: NIOSSLPrivateKey
            do { chain = try NIOSSLCertificate.fromPEMFile(cert) } catch {
                throw SpawnError(description: "sprite-sim: cannot read the TLS certificate \(cert): \(error)")
            }
            do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
                throw SpawnError(description: "sprite-sim: cannot read the TLS key \(key): \(error)")
            }
            guard !chain.isEmpty else { throw SpawnError(description: "sprite-sim: no certificate in \(cert)") }
            return TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        default:
            throw SpawnError(description: "sprite-sim: TLS needs both a certificate and a key (--tls-cert and --tls-key)")
        }
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
            store.lifecycleTick(dropOnPause: state.faults.withLock({ $0 }).dropOnPause)
        }
    }
}

/// Sprite-Version on every response, latency, bearer auth on `/v1`, 429 fault, request log.
struct SimMiddleware: RouterMiddleware {
    typealias Context = SimContext
    let state: SimState
    let store: SpriteStore

    func handle(_ request: Request, context: SimContext, next: (Request, SimContext) async throws -> Response) async throws -> Response {
        await state.roundTrip(context.channel)
        let path = request.uri.path
        var response: Response
        if path.hasPrefix("/v1") {
            if !state.authorized(request.headers[.authorization]) {
                response = Reply.error(.unauthorized, "unauthorized: missing or invalid bearer token")
            } else {
                var endpoint = endpointName(method: request.method.rawValue, path: path)
                if endpoint == "exec", request.method == .get, request.headers[.upgrade] == nil { endpoint = "sessions" }
                if state.takeRateLimit(endpoint) {
                    response = Self.rateLimited(state.faults.withLock({ $0 }).retryAfter)
                } else if let refusal = store.limitRefusal(path: path, faults: state.faults.withLock({ $0 })) {
                    response = refusal
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
    var spriteVersion: String { versionBox.withLock({ $0 }) }
}
