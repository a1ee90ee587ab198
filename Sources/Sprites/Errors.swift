import Foundation

/// An HTTP error answer from the Sprites API, with the structured fields when present (§2).
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    /// Human-readable message (`message`, else `error`, else the raw body).
    public var message: String
    /// Machine code such as `sprite_creation_rate_limited` or a filesystem `ENOENT`.
    public var code: String?
    public var retryAfterSeconds: Double?
    public var limit: Int?
    public var windowSeconds: Int?
    public var currentCount: Int?
    public var upgradeURL: String?
    /// Filesystem errors name the path.
    public var path: String?

    public var description: String {
        var s = "Sprites API error \(status)"
        switch status {
        case 401: s += " (unauthorized — check SPRITES_TOKEN)"
        case 404: s += " (not found)"
        case 429: s += " (rate limited)"
        default: break
        }
        s += ": \(message)"
        if let code, code != message { s += " [\(code)]" }
        if let path { s += " path: \(path)" }
        if status == 429 {
            if let limit { s += "; limit: \(limit) per \(windowSeconds ?? 0)s" }
            if let currentCount { s += ", current: \(currentCount)" }
            if let retryAfterSeconds { s += ", retry after: \(Int(retryAfterSeconds))s" }
            if let upgradeURL { s += ", upgrade: \(upgradeURL)" }
        }
        return s
    }

    /// Parses an error body per GO/JS: JSON object, else raw text, else "API error (status N)".
    init(status: Int, body: [UInt8], retryAfterHeader: String?) {
        self.status = status
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        message = text.isEmpty ? "API error (status \(status))" : text
        if let obj = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] {
            let err = obj["error"] as? String
            let msg = obj["message"] as? String
            message = msg ?? err ?? (obj["errors"] as? [String])?.joined(separator: "; ") ?? message
            code = obj["code"] as? String ?? (msg != nil ? err : nil)
            if code == nil, let err, err.contains("_"), !err.contains(" ") { code = err }
            retryAfterSeconds = JSON.double(obj["retry_after_seconds"])
            limit = JSON.int(obj["limit"])
            windowSeconds = JSON.int(obj["window_seconds"])
            currentCount = JSON.int(obj["current_count"])
            upgradeURL = obj["upgrade_url"] as? String
            path = obj["path"] as? String
        }
        if retryAfterSeconds == nil, let h = retryAfterHeader, let v = Double(h.trimmingCharacters(in: .whitespaces)) {
            retryAfterSeconds = v
        }
    }
}

/// Everything the client throws.
public enum SpritesError: Error, Sendable, CustomStringConvertible {
    /// The server answered with an error status (see `APIError.status`; 429 carries `retryAfterSeconds`).
    case api(APIError)
    /// The request never got an answer: connection refused, DNS, TLS, timeout, cancelled.
    case transport(String)
    /// The exec socket closed without an exit frame — never a success. Output received so far is kept.
    case connectionLost(reason: String, stdout: [UInt8], stderr: [UInt8])
    /// The server sent something the client cannot understand.
    case invalidResponse(String)
    /// A command exited non-zero where success was required (`ExecResult.check()`).
    case exitStatus(code: Int, stderr: String)
    /// No token configured.
    case missingToken(String)

    public var description: String {
        switch self {
        case .api(let e): return e.description
        case .transport(let m): return "Sprites transport error: \(m)"
        case .connectionLost(let r, let out, let err):
            return "connection lost before the command's exit status (\(r)); kept \(out.count) bytes of stdout, \(err.count) of stderr"
        case .invalidResponse(let m): return "invalid response from Sprites API: \(m)"
        case .exitStatus(let c, let e): return "command exited with status \(c)" + (e.isEmpty ? "" : ": \(e)")
        case .missingToken(let m): return m
        }
    }

    /// The HTTP status for `.api` errors.
    public var status: Int? { if case .api(let e) = self { return e.status }; return nil }
}

/// Loose JSON readers: numbers may arrive as Int, Double or String.
enum JSON {
    static func int(_ v: Any?) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double { return Int(d) }
        if let s = v as? String { return Int(s) }
        return nil
    }
    static func double(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String { return Double(s) }
        return nil
    }
    /// Any JSON scalar as a string (session ids are integers in the docs, strings on the wire).
    static func string(_ v: Any?) -> String? {
        if let s = v as? String { return s }
        if let i = v as? Int { return String(i) }
        if let d = v as? Double { return String(Int(d)) }
        return nil
    }
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
    static func date(_ v: Any?) -> Date? {
        guard let s = v as? String else {
            if let n = double(v) { return Date(timeIntervalSince1970: n) }
            return nil
        }
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
    static func encode(_ obj: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}
