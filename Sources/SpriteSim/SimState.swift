import Foundation
import NIOCore
import Synchronization

/// One entry of the request log that tests read through `GET /_sim/requests`.
public struct LoggedRequest: Codable, Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var status: Int
    public var time: Date
    public var websocket: Bool
}

/// Runtime-mutable switches and the request log.
final class SimState: Sendable {
    let initialFaults: Faults
    let faults: Mutex<Faults>
    let token: Mutex<String>
    let versionBox: Mutex<String>
    let sessionIdAsString: Mutex<Bool>
    /// Whether the server speaks TLS (a new connection then costs a second round trip).
    let tls: Bool
    private let log = Mutex<[LoggedRequest]>([])
    /// Connections that already paid their handshakes' latency.
    private let connections = Mutex<Set<ObjectIdentifier>>([])
    /// Control channels: upgrades so far, open now, operations started.
    let control = Mutex(ControlStats())

    init(options: SimOptions) {
        tls = options.tlsCertificatePath != nil
        initialFaults = options.faults
        faults = Mutex(options.faults)
        token = Mutex(options.token)
        versionBox = Mutex(options.spriteVersion)
        sessionIdAsString = Mutex(options.sessionIdAsString)
    }

    func record(_ r: LoggedRequest) {
        log.withLock { l in
            l.append(r)
            if l.count > 10_000 { l.removeFirst(l.count - 10_000) }
        }
    }
    var requests: [LoggedRequest] { log.withLock({ $0 }) }
    func clearLog() { log.withLock { $0.removeAll() } }

    /// Waits the `latency_ms` fault's round trips for a request on `channel`: one, plus the TCP
    /// handshake (and the TLS one) when this is the connection's first request.
    func roundTrip(_ channel: any Channel) async {
        let ms = faults.withLock({ $0 }).latencyMs
        guard ms > 0 else { return }
        let id = ObjectIdentifier(channel)
        let isNew = connections.withLock { $0.insert(id).inserted }
        if isNew {
            channel.closeFuture.whenComplete { [self] _ in connections.withLock { _ = $0.remove(id) } }
        }
        let trips = 1 + (isNew ? (tls ? 2 : 1) : 0)
        try? await Task.sleep(for: .milliseconds(ms * trips))
    }

    func authorized(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = String(header.dropFirst(7))
        let (expected, revoked) = (token.withLock({ $0 }), faults.withLock({ $0 }).tokenRevoked)
        return !revoked && given == expected
    }

    /// True if requests to `endpoint` are being answered with 429 (consumes nothing).
    func rateLimitPending(_ endpoint: String) -> Bool {
        faults.withLock { f in [endpoint, "*"].contains { (f.rateLimited[$0] ?? 0) > 0 } }
    }

    /// True if the request must be answered with 429; consumes one of the N.
    func takeRateLimit(_ endpoint: String) -> Bool {
        faults.withLock { f in
            for key in [endpoint, "*"] {
                if let n = f.rateLimited[key], n > 0 {
                    f.rateLimited[key] = n - 1
                    return true
                }
            }
            return false
        }
    }
}

/// Sends small frames at once (no Nagle): a socket's session_info, exit frame and `op.complete`
/// go out as written, not held for the ACK of the one before (which a delayed ACK can hold up
/// to 200 ms on a long-lived connection).
func noDelay(_ channel: any Channel) async {
    _ = try? await channel.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1).get()
}

/// What the control endpoint has seen (`GET /_sim/control`).
struct ControlStats: Sendable {
    var upgrades = 0
    var open = 0
    var operations = 0
}

/// Names the endpoint of a `/v1` request for the 429 switch.
func endpointName(method: String, path: String) -> String {
    let parts = path.split(separator: "/").map(String.init)  // v1, sprites, name, ...
    guard parts.count >= 2, parts[0] == "v1", parts[1] == "sprites" else { return "other" }
    if parts.count == 2 { return method == "POST" ? "create" : "list" }
    if parts.count == 3 {
        switch method { case "PUT": return "update"; case "DELETE": return "delete"; default: return "get" }
    }
    switch parts[3] {
    case "exec":
        if parts.count >= 6, parts[5] == "kill" { return "kill" }
        return method == "GET" && parts.count == 4 ? "exec" : "exec"
    case "checkpoint": return "checkpoint"
    case "checkpoints": return parts.count >= 6 ? "restore" : "checkpoints"
    case "fs": return "fs"
    default: return parts[3]
    }
}
