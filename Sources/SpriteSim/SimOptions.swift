import Foundation

/// How the simulated server behaves; set at start-up (flags) and partly changeable at run time
/// through the admin endpoints under `/_sim/`.
public struct SimOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 = pick a free port.
    public var port = 0
    /// Where sprites and checkpoints live; state persists here across restarts.
    public var root: String
    /// The one bearer token accepted.
    public var token: String
    /// Value of the `Sprite-Version` header.
    public var spriteVersion = "0.1.0"
    /// `session_info.session_id` as a string (current servers) or an integer (docs).
    public var sessionIdAsString = true
    /// Status for a duplicate sprite name (409 or 400).
    public var duplicateNameStatus = 409
    /// Seconds without activity before a running sprite turns warm (and its sockets drop).
    public var idleToWarm: Double = 30
    /// Seconds a warm sprite waits before turning cold (its processes are killed).
    public var warmToCold: Double = 3600
    /// Extra delay when an exec or filesystem call wakes a sprite.
    public var wakeDelay: Double = 0
    /// Per-session scrollback kept for attach.
    public var scrollbackLimit = 1 << 20
    /// PEM certificate chain and private key: when both are set the server speaks HTTPS and WSS
    /// on its port (and announces `https://localhost:PORT` when bound to 127.0.0.1, since a
    /// client cannot send an IP address as the TLS server name).
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var faults = Faults()

    public init(root: String, token: String) {
        self.root = root
        self.token = token
    }
}

/// How the exec socket ends after the command exits.
public enum CloseMode: String, Sendable, Codable {
    /// Exit frame, then close 1000 after `closeDelay`.
    case normal
    /// Output, then close 1000 without the exit frame.
    case noExit1000 = "no-exit-1000"
    /// Output, then close 1011 without the exit frame.
    case noExit1011 = "no-exit-1011"
    /// No frames at all (no output, no exit), then close 1000.
    case noFrames = "no-frames"
}

/// Fault-injection switches.
public struct Faults: Sendable, Codable {
    public var closeMode: CloseMode = .normal
    /// Seconds the socket stays open after the exit frame (the real server: ~5 s).
    public var closeDelay: Double = 5
    /// One network round trip, in milliseconds: added to every request (REST calls and WebSocket
    /// upgrades) and to every operation started on a control channel, and once more for each new
    /// connection (its TCP handshake; twice with TLS, for the TLS handshake too).
    public var latencyMs: Int = 0
    /// Endpoint name → remaining number of requests answered with 429.
    public var rateLimited: [String: Int] = [:]
    /// `Retry-After` seconds sent with 429.
    public var retryAfter: Int = 1
    /// The path form of attach answers 404 (forces the legacy `?id=` fallback).
    public var attachPath404 = false
    /// Drop every socket of a sprite when it pauses (always true on the real service).
    public var dropOnPause = true
    /// The current token was revoked: every request gets 401.
    public var tokenRevoked = false
    /// The control channel (`/v1/sprites/{name}/control`, spec §4.8) is refused with 404, as by
    /// servers without it (spec §11 item 9).
    public var controlRefused = false
    /// The account's limit on sprites at once (those not cold): creating one more is answered 429
    /// `concurrent_sprite_limit_exceeded` (spec §2). Nil: no limit.
    public var maxSprites: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case closeMode = "close_mode", closeDelay = "close_delay", latencyMs = "latency_ms"
        case rateLimited = "rate_limited", retryAfter = "retry_after", attachPath404 = "attach_path_404"
        case dropOnPause = "drop_on_pause", tokenRevoked = "token_revoked", controlRefused = "control_refused"
        case maxSprites = "max_sprites"
    }
}
