import Foundation

/// Where the client finds its base URL and token. Never logs or prints the token.
public enum SpritesConfig {
    /// `SPRITES_API_URL`, else `https://api.sprites.dev`; trailing `/` stripped.
    public static func baseURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var url = environment["SPRITES_API_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.sprites.dev"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Whether the control channel is used: on unless `SPRITES_CONTROL` is `0`, `off`, `false` or `no`.
    public static func controlMode(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        !["0", "off", "false", "no"].contains((environment["SPRITES_CONTROL"] ?? "").lowercased())
    }

    /// Name of the credentials file inside the caller's config folder.
    public static let credentialsFileName = "sprites-token"

    /// The token: `SPRITES_TOKEN`, else `SPRITE_TOKEN`, else the credentials file in `configDirectory`.
    public static func token(configDirectory: String?,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        for key in ["SPRITES_TOKEN", "SPRITE_TOKEN"] {
            if let t = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty { return t }
        }
        if let dir = configDirectory {
            let path = (dir as NSString).appendingPathComponent(credentialsFileName)
            if let data = FileManager.default.contents(atPath: path) {
                let t = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { return t }
            }
        }
        throw SpritesError.missingToken(
            "no Sprites token: set SPRITES_TOKEN (or SPRITE_TOKEN), or save one with SpritesConfig.saveToken")
    }

    /// Writes the token to `configDirectory/sprites-token` with mode 0600 (folder 0700 if created).
    public static func saveToken(_ token: String, configDirectory: String) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: configDirectory) {
            try fm.createDirectory(atPath: configDirectory, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        }
        let path = (configDirectory as NSString).appendingPathComponent(credentialsFileName)
        _ = fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw SpritesError.transport("cannot write credentials file \(path)")
        }
        defer { try? h.close() }
        try h.truncate(atOffset: 0)
        try h.write(contentsOf: Data((token + "\n").utf8))
    }

    /// A display form of a token: the first 4 characters, then `…`; short tokens show nothing.
    public static func masked(_ token: String) -> String {
        let visible = token.count >= 12 ? 4 : 0
        return String(token.prefix(visible)) + "…(\(token.count) chars)"
    }
}

/// Retries for idempotent calls: 429, 502 and 503 are retried with exponential backoff and
/// jitter, honouring `retry_after_seconds` / `Retry-After`. Non-idempotent calls are never
/// retried blindly.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public init(maxAttempts: Int = 4, baseDelay: Double = 0.25, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts; self.baseDelay = baseDelay; self.maxDelay = maxDelay
    }
    public static let none = RetryPolicy(maxAttempts: 1)

    static let retryableStatuses: Set<Int> = [429, 502, 503]

    /// Seconds to wait before attempt `attempt + 1`.
    func delay(attempt: Int, retryAfter: Double?) -> Double {
        if let retryAfter, retryAfter >= 0 { return min(retryAfter, maxDelay) + Double.random(in: 0...0.1) }
        let exp = min(maxDelay, baseDelay * pow(2, Double(attempt)))
        return exp / 2 + Double.random(in: 0...(exp / 2))
    }
}
