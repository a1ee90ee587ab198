import Foundation
import Synchronization
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import WSClient

/// Where requests go, with which token, trusting which CAs: what every REST call, exec socket
/// and control connection shares (its own object, so a control channel needs no reference to
/// its client).
final class Endpoint: Sendable {
    /// Without a trailing `/`.
    let baseURL: String
    let token: String
    let trust: TLSTrust
    /// The WebSocket TLS configuration, made once (reading a CA bundle costs milliseconds).
    private let tls = Mutex<TLSConfiguration?>(nil)

    init(baseURL: String, token: String, trust: TLSTrust) {
        self.baseURL = baseURL
        self.token = token
        self.trust = trust
    }

    /// The TLS configuration for `wss://`, made on first use.
    func tlsConfiguration() throws -> TLSConfiguration {
        if let made = tls.withLock({ $0 }) { return made }
        try trust.check()
        let made = try trust.clientConfiguration()
        tls.withLock { $0 = made }
        return made
    }

    var authHeaders: [String: String] { ["Authorization": "Bearer \(token)"] }

    func spriteURL(_ name: String, _ rest: String = "") -> String {
        "\(baseURL)/v1/sprites/\(SpritesClient.segment(name))\(rest)"
    }

    /// `https://` → `wss://`, `http://` → `ws://`.
    func wsURL(_ http: String) -> String {
        if http.hasPrefix("https://") { return "wss://" + http.dropFirst(8) }
        if http.hasPrefix("http://") { return "ws://" + http.dropFirst(7) }
        return http
    }

    /// A request with the token and the trusted CAs.
    func request(_ method: String, _ url: String, timeout: Double?) -> HTTPRequest {
        HTTPRequest(method: method, url: url, headers: authHeaders, timeout: timeout, trust: trust)
    }

    /// A WebSocket client for `url` with the token, 15 s pings and, for `wss://`, full
    /// certificate verification against the trusted CAs.
    func webSocketClient(_ url: String, maxFrameSize: Int = 1 << 24,
                         handler: @escaping WebSocketDataHandler<WebSocketClient.Context>) throws -> WebSocketClient {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        let config = WebSocketClientConfiguration(
            maxFrameSize: maxFrameSize, additionalHeaders: headers, closeTimeout: .seconds(2),
            autoPing: .enabled(timePeriod: .seconds(15)))
        var logger = Logger(label: "sprites.ws")
        logger.logLevel = .critical
        let tls = url.hasPrefix("wss://") ? try tlsConfiguration() : nil
        return WebSocketClient(url: url, configuration: config, tlsConfiguration: tls, logger: logger, handler: handler)
    }

    /// A WebSocket failure in the client's words: TLS problems say what to set; anything else is
    /// a transport error.
    func webSocketFailure(_ error: any Error, url: String) -> SpritesError {
        if let e = error as? SpritesError { return e }
        if let tls = trust.describe(error, url: url) { return .transport(tls) }
        return .transport("WebSocket: \(error)")
    }

    /// WSClient does not expose a refused upgrade's status, so ask the same path over plain HTTP.
    func refusal(probe: String) async -> SpritesError {
        let req = request("GET", probe, timeout: 15)
        guard let a = try? await CurlTransport.perform(req) else {
            return .transport("WebSocket upgrade refused and the server did not answer")
        }
        if a.status >= 400 { return .api(APIError(status: a.status, body: a.body, retryAfterHeader: a.headers["retry-after"])) }
        return .transport("WebSocket upgrade refused by the server")
    }
}
