import ArgumentParser
import Foundation
import SpriteSim

/// `sprite-sim --port P --root DIR --token T`: a local Sprites-compatible server.
/// Prints `listening on http://127.0.0.1:PORT` as the first line of stdout — with
/// `--tls-cert`/`--tls-key`, `listening on https://localhost:PORT` (HTTPS and WSS on that port).
@main
struct SpriteSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sprite-sim",
        abstract: "A local Sprites-compatible server (HTTP + WebSocket) for tests.",
        discussion: "Run-time switches: see POST /_sim/faults, /_sim/rate-limit, /_sim/drop, /_sim/pause, /_sim/revoke-token, GET /_sim/requests, GET /_sim/control.")

    @Option(help: "Port to listen on (0 = pick a free one).") var port: Int = 0
    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Folder holding sprites, checkpoints and state.") var root: String
    @Option(help: "Bearer token to accept (default: $SPRITE_SIM_TOKEN).") var token: String?
    @Option(help: "Sprite-Version header value.") var spriteVersion: String = "0.1.0"
    @Option(help: "Seconds the socket stays open after the exit frame.") var closeDelay: Double = 5
    @Option(help: "How exec sockets end: normal, no-exit-1000, no-exit-1011, no-frames.") var closeMode: String = "normal"
    @Option(help: "Seconds idle before running → warm.") var idleTimeout: Double = 30
    @Option(help: "Seconds warm before → cold.") var coldTimeout: Double = 3600
    @Option(help: "Seconds added when exec or fs wakes a sprite.") var wakeDelay: Double = 0
    @Option(help: "Milliseconds of one round trip: added to every request and control-channel operation, and once more per new connection (twice with TLS).") var latencyMs: Int = 0
    @Option(help: "Endpoints answered with 429 (comma-separated: create,exec,control,get,list,fs,…,*).") var rateLimit: String?
    @Option(help: "How many requests get 429 per endpoint in --rate-limit.") var rateLimitCount: Int = 1
    @Option(help: "Retry-After seconds with 429.") var retryAfter: Int = 1
    @Option(help: "Status for a duplicate sprite name (409 or 400).") var duplicateStatus: Int = 409
    @Option(help: "The account's limit on sprites at once (running or warm): waking one more is refused with 429 concurrent_sprite_limit_exceeded.") var maxSprites: Int?
    @Flag(help: "Send session_info.session_id as an integer.") var integerSessionId = false
    @Flag(help: "Path-form attach answers 404 (forces the legacy ?id= form).") var attachPath404 = false
    @Flag(help: "Refuse the control channel (/v1/sprites/{name}/control answers 404), as servers without it do.") var noControl = false
    @Option(help: "PEM certificate (chain) to serve HTTPS and WSS with; needs --tls-key.") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(help: "Exit when stdin reaches its end (a test harness that dies takes the sim with it).") var exitOnStdinEof = false

    func run() async throws {
        guard let token = token ?? ProcessInfo.processInfo.environment["SPRITE_SIM_TOKEN"], !token.isEmpty else {
            throw ValidationError("a token is required: --token T or SPRITE_SIM_TOKEN")
        }
        guard let mode = CloseMode(rawValue: closeMode) else { throw ValidationError("unknown --close-mode \(closeMode)") }
        var o = SimOptions(root: root, token: token)
        o.host = host
        o.port = port
        o.spriteVersion = spriteVersion
        o.sessionIdAsString = !integerSessionId
        o.duplicateNameStatus = duplicateStatus
        o.idleToWarm = idleTimeout
        o.warmToCold = coldTimeout
        o.wakeDelay = wakeDelay
        o.faults.closeDelay = closeDelay
        o.faults.closeMode = mode
        o.faults.latencyMs = latencyMs
        o.faults.retryAfter = retryAfter
        o.faults.attachPath404 = attachPath404
        o.faults.controlRefused = noControl
        if let maxSprites, maxSprites < 0 { throw ValidationError("--max-sprites must be 0 or more") }
        o.faults.maxSprites = maxSprites
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        o.tlsCertificatePath = tlsCert
        o.tlsKeyPath = tlsKey
        for e in (rateLimit ?? "").split(separator: ",") { o.faults.rateLimited[String(e)] = rateLimitCount }
        signal(SIGPIPE, SIG_IGN)
        if exitOnStdinEof {
            Thread {
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    if n == 0 || (n < 0 && errno != EINTR) { Foundation.exit(0) }
                }
            }.start()
        }
        let server = try SpriteSimServer(options: o)
        try await server.run { url in
            FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
        }
    }
}

