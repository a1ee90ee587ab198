import Foundation

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
final class SimState: @unchecked Sendable {
    let initialFaults: Faults
    let faults: Locked<Faults>
    let token: Locked<String>
    let versionBox: Locked<String>
    let sessionIdAsString: Locked<Bool>
    private let log = Locked<[LoggedRequest]>([])

    init(options: SimOptions) {
        initialFaults = options.faults
        faults = Locked(options.faults)
        token = Locked(options.token)
        versionBox = Locked(options.spriteVersion)
        sessionIdAsString = Locked(options.sessionIdAsString)
    }

    func record(_ r: LoggedRequest) {
        log.withLock { l in
            l.append(r)
            if l.count > 10_000 { l.removeFirst(l.count - 10_000) }
        }
    }
    var requests: [LoggedRequest] { log.current }
    func clearLog() { log.withLock { $0.removeAll() } }

    func authorized(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = String(header.dropFirst(7))
        let (expected, revoked) = (token.current, faults.current.tokenRevoked)
        return !revoked && given == expected
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
